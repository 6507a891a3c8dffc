"""The API clients against the sandbox: every page fetched, unsafe values refused before sending."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from diagnose.sandbox import demo_tenant_path
from diagnose.sandbox.tenant import parse_tenant
from diagnose.sources.both import Sources
from diagnose.sources.sandbox import sandbox_sources


def with_sources(document: dict[str, Any], use: Callable[[Sources], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        async with sandbox_sources(parse_tenant(document)) as sources:
            sources.log.round = 1
            return await use(sources), sources.log.calls

    return asyncio.run(go())


def demo() -> dict[str, Any]:
    return json.loads(demo_tenant_path().read_text())  # type: ignore[no-any-return]


def test_xero_invoices_follow_every_page() -> None:
    document = demo()
    template = document["xero"]["invoices"][0]
    contact_id = template["Contact"]["ContactID"]
    document["xero"]["invoices"] = [
        {**template, "InvoiceID": f"00000000-0000-0000-0000-{i:012d}", "InvoiceNumber": f"INV-{i}"}
        for i in range(250)
    ]
    body, calls = with_sources(document, lambda s: s.xero.invoices(contact_ids=[contact_id]))
    assert len(body["Invoices"]) == 250
    assert [c.path.rsplit("page=", 1)[1] for c in calls] == ["1", "2", "3"]


def test_wisenet_invoices_follow_every_page_of_1000() -> None:
    document = demo()
    document["wisenet"]["invoices"] = [
        {"InvoiceNumber": f"INV-{i}", "LearnerId": 101, "Status": "PAID"} for i in range(1500)
    ]
    rows, calls = with_sources(document, lambda s: s.wisenet.invoices(101))
    assert len(rows) == 1500
    assert len(calls) == 2


def test_combos_and_connections() -> None:
    states, _ = with_sources(demo(), lambda s: s.wisenet.states())
    countries, _ = with_sources(demo(), lambda s: s.wisenet.countries())
    connections, calls = with_sources(demo(), lambda s: s.xero.connections())
    assert {s["Data"]["ShortDescription"] for s in states} >= {"NSW", "VIC", "ACT"}
    assert "Australia" in {c["Data"]["Description"] for c in countries}
    assert connections[0]["tenantType"] == "ORGANISATION"
    assert calls[0].correlation_id is None  # /connections is tenantless


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.xero.contact_by_number('X" || 1==1'),
        lambda s: s.xero.invoices(contact_code='A"||Name!=null'),
        lambda s: s.xero.invoices(numbers=["INV-1,INV-2"]),
        lambda s: s.xero.invoice("not-a-guid"),
    ],
)
def test_unsafe_values_are_refused_before_any_call(call: Callable[[Sources], Any]) -> None:
    async def use(sources: Sources) -> None:
        with pytest.raises(ValueError):  # noqa: PT011 — each message is specific to its value
            await call(sources)

    _, calls = with_sources(demo(), use)
    assert calls == []
