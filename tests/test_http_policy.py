"""The HTTP policy, seen from both ends: what the server got, and what the client waited."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from diagnose import runner
from diagnose.errors import SourceError
from diagnose.model import ProblemKind, Status, SubjectKind
from diagnose.sandbox import demo_tenant_path
from diagnose.sandbox.app import create_app
from diagnose.sandbox.tenant import Tenant, load_tenant
from diagnose.sources import policy
from diagnose.sources.policy import Limiter, Policy
from diagnose.sources.sandbox import sandbox_sources

CONTACT = "/api.xro/2.0/Contacts/STD0000123"


def answering(
    tenant: Tenant, script: dict[tuple[str, str], list[tuple[int, dict[str, str]]]]
) -> Any:
    """The sandbox, except that the first requests to a (method, path) get scripted answers."""
    app = create_app(tenant)
    seen: Counter[tuple[str, str]] = Counter()

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        key = (scope.get("method", ""), scope.get("path", ""))
        if scope["type"] == "http" and seen[key] < len(script.get(key, [])):
            status, headers = script[key][seen[key]]
            seen[key] += 1
            raw = [(k.encode(), v.encode()) for k, v in headers.items()]
            await send({"type": "http.response.start", "status": status, "headers": raw})
            await send({"type": "http.response.body", "body": b'{"Message": "scripted"}'})
            return
        await app(scope, receive, send)

    return wrapped


def diagnose_123(app: Any) -> Any:
    tenant = load_tenant(demo_tenant_path())

    async def go() -> Any:
        return await runner.gather_async(SubjectKind.LEARNER, "123", tenant, app=app)

    return runner.diagnose(asyncio.run(go()))


def test_a_429_is_retried_after_its_retry_after(pauses: list[float]) -> None:
    tenant = load_tenant(demo_tenant_path())
    app = answering(
        tenant, {("GET", CONTACT): [(429, {"Retry-After": "2", "X-Rate-Limit-Problem": "minute"})]}
    )
    d = diagnose_123(app)
    assert not [f for f in d.findings if f.status is Status.ERROR]
    assert len(pauses) == 1
    assert 2.0 <= pauses[0] <= 3.0  # Retry-After, spread a little so clients do not return at once
    assert [c.status for c in d.calls if c.path.startswith(CONTACT)] == [429, 200]


def test_a_day_limit_is_reported_not_waited_for(pauses: list[float]) -> None:
    tenant = load_tenant(demo_tenant_path())
    day = (429, {"Retry-After": "66975", "X-Rate-Limit-Problem": "day"})
    d = diagnose_123(answering(tenant, {("GET", CONTACT): [day]}))
    found = next(f for f in d.findings if f.check_id == "contact.found")
    assert (found.status, found.cause) == (Status.ERROR, ProblemKind.RATE_LIMITED)
    assert "(day limit); retry after 18 h 37 min" in found.message  # 66,975 s, in words
    assert pauses == []


def test_5xx_is_retried_with_a_growing_jittered_backoff(pauses: list[float]) -> None:
    tenant = load_tenant(demo_tenant_path())
    d = diagnose_123(answering(tenant, {("GET", CONTACT): [(503, {}), (502, {})]}))
    assert not [f for f in d.findings if f.status is Status.ERROR]
    assert len(pauses) == 2
    assert 0.25 <= pauses[0] <= 0.5
    assert 0.5 <= pauses[1] <= 1.0


def test_a_client_error_is_not_retried(pauses: list[float]) -> None:
    tenant = load_tenant(demo_tenant_path())
    d = diagnose_123(answering(tenant, {("GET", CONTACT): [(400, {})]}))
    assert [c.status for c in d.calls if c.path.startswith(CONTACT)] == [400]
    assert pauses == []


def test_writes_are_retried_only_with_an_idempotency_key(pauses: list[float]) -> None:
    tenant = load_tenant(demo_tenant_path())
    survivor = next(
        c
        for c in tenant.contacts
        if c["Name"] == "Isabella Rossi" and c["ContactStatus"] == "ACTIVE"
    )
    path = f"/api.xro/2.0/Contacts/{survivor['ContactID']}"
    app = answering(
        tenant, {("PATCH", "/v1/learnersAU/101"): [(503, {})], ("POST", path): [(503, {})]}
    )

    async def go() -> tuple[bool, list[int | None]]:
        async with sandbox_sources(tenant, app=app) as sources:
            try:
                await sources.wisenet.set_sync_to_xero(101, True)
                patched = True
            except SourceError:
                patched = False
            await sources.xero.set_contact_code(survivor["ContactID"], "STD0000108", "key-7")
            return patched, [c.status for c in sources.log.calls]

    patched, statuses = asyncio.run(go())
    assert not patched  # the PATCH was tried once
    assert statuses == [503, 503, 200]  # the keyed POST once more
    assert survivor["ContactNumber"] == "STD0000108"


def test_pacing_keeps_under_the_per_minute_limit(monkeypatch: Any) -> None:
    now = [1000.0]
    waited: list[float] = []

    async def advance(seconds: float) -> None:
        waited.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(policy, "pause", advance)
    limiter = Limiter(Policy(per_minute=3), clock=lambda: now[0])

    async def go() -> None:
        for _ in range(4):
            async with limiter:
                now[0] += 1.0  # each call takes a second

    asyncio.run(go())
    assert waited == [57.0]  # the 4th call waits until the 1st is a minute old


def test_at_most_five_xero_calls_are_in_flight() -> None:
    tenant = load_tenant(demo_tenant_path())
    app = create_app(tenant)
    flight = {"now": 0, "most": 0}

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        flight["now"] += 1
        flight["most"] = max(flight["most"], flight["now"])
        await asyncio.sleep(0.01)
        try:
            await app(scope, receive, send)
        finally:
            flight["now"] -= 1

    async def go() -> None:
        async with sandbox_sources(tenant, app=slow) as sources:
            await asyncio.gather(*(sources.xero.contacts(search_term=f"x{i}") for i in range(12)))

    asyncio.run(go())
    assert flight["most"] == 5


def test_the_rate_limit_headroom_is_recorded_in_the_evidence() -> None:
    d = diagnose_123(None)
    xero_calls = [c for c in d.calls if c.path.startswith("/api.xro")]
    assert all(isinstance(c.day_remaining, int) for c in xero_calls)
    assert all(isinstance(c.minute_remaining, int) for c in xero_calls)
    assert min(c.day_remaining or 0 for c in xero_calls) < 5000
