"""A re-scan asks only for what changed, in the formats the services document, and a service
that refuses the filter costs a full fetch, never the scan."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from diagnose.errors import SourceError
from diagnose.sandbox import demo_tenant_path
from diagnose.sandbox.app import SANDBOX_API_KEY, SANDBOX_TOKEN, create_app
from diagnose.sandbox.tenant import load_tenant
from diagnose.scan_cache import Cache
from diagnose.scan_fetch import fetch
from diagnose.sources.bulk import Bulk
from diagnose.sources.sandbox import sandbox_sources

TENANT = load_tenant(demo_tenant_path())


def watched(seen: list[tuple[str, str, str]], refuse: bool = False) -> Any:
    """The sandbox, recording each request's path, query and If-Modified-Since; with `refuse`,
    an incremental request gets a 400 as a server that does not take the filter would."""
    inner = create_app(TENANT)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            since = headers.get(b"if-modified-since", b"").decode()
            query = scope["query_string"].decode()
            seen.append((scope["path"], query, since))
            if refuse and (since or "lastModifiedTimeStampFilter" in query):
                body = json.dumps({"Message": "The request is invalid."}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await inner(scope, receive, send)

    return app


async def scan(folder: Path, app: Any) -> Bulk:
    async with sandbox_sources(TENANT, app=app) as sources:
        return await fetch(sources, cache=Cache.load(folder))


async def test_a_rescan_sends_the_documented_formats(tmp_path: Path) -> None:
    seen: list[tuple[str, str, str]] = []
    await scan(tmp_path, watched(seen))
    assert not any(since for _, _, since in seen)  # a first scan asks for everything
    seen.clear()
    again = await scan(tmp_path, watched(seen))
    assert len(again.learners) == len(TENANT.learners)
    stamps = [since for path, _, since in seen if path.startswith("/api.xro/")]
    assert stamps
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", s) for s in stamps), stamps
    filters = [
        re.search(r"lastModifiedTimeStampFilter=([^&]+)", q)
        for p, q, _ in seen
        if p.startswith("/v1")
    ]
    values = [httpx.QueryParams(f"x={m.group(1)}")["x"] for m in filters if m]
    assert len(values) == 2  # learners and the Xero Invoices tab
    assert all(re.fullmatch(r"gt:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", v) for v in values), values


async def test_a_refused_filter_falls_back_to_a_full_fetch(tmp_path: Path) -> None:
    full = await scan(tmp_path, watched([]))
    seen: list[tuple[str, str, str]] = []
    again = await scan(tmp_path, watched(seen, refuse=True))
    for resource in ("learners", "wisenet_invoices", "contacts", "invoices"):
        assert len(getattr(again, resource)) == len(getattr(full, resource)), resource
    refused_then_full = [p for p, q, s in seen if not s and "lastModified" not in q]
    assert "/api.xro/2.0/Invoices" in refused_then_full
    assert "/v1/learnersAU" in refused_then_full


def test_the_sandbox_refuses_undocumented_formats_like_a_strict_server() -> None:
    async def ask() -> list[int]:
        app = create_app(TENANT)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sandbox"
        ) as http:
            wisenet = {"x-api-key": SANDBOX_API_KEY}
            xero = {
                "Authorization": f"Bearer {SANDBOX_TOKEN}",
                "xero-tenant-id": TENANT.tenant_id or "",
            }
            answers = []
            for stamp in ("gt:2026-11-01T10:00:00.123", "gt:2026-11-01T10:00:00.123456+00:00"):
                answer = await http.get(
                    "/v1/learnersAU", params={"lastModifiedTimeStampFilter": stamp}, headers=wisenet
                )
                answers.append(answer.status_code)
            for stamp in ("2026-11-01T10:00:00", "2026-11-01T10:00:00.123456+00:00"):
                answer = await http.get(
                    "/api.xro/2.0/Invoices",
                    params={"page": 1},
                    headers={**xero, "If-Modified-Since": stamp},
                )
                answers.append(answer.status_code)
            return answers

    assert asyncio.run(ask()) == [200, 400, 200, 400]


async def test_a_service_that_fails_does_not_cost_the_other_its_pages(tmp_path: Path) -> None:
    """Wisenet refusing its invoices does not stop Xero's pages: they are kept, and the next
    scan asks Xero only for what changed since."""
    inner = create_app(TENANT)

    async def failing_wisenet(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/invoices":
            body = json.dumps({"Message": "The request is invalid."}).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await inner(scope, receive, send)

    with pytest.raises(SourceError):
        await scan(tmp_path, failing_wisenet)
    seen: list[tuple[str, str, str]] = []
    again = await scan(tmp_path, watched(seen))
    assert len(again.invoices) == len(TENANT.invoices)
    xero = [since for path, _, since in seen if path.startswith("/api.xro/2.0/")]
    assert len(xero) == 2  # contacts and invoices
    assert all(xero)  # only what changed
    wisenet = [query for path, query, _ in seen if path.startswith("/v1/")]
    assert wisenet
    assert not any("lastModifiedTimeStampFilter" in q for q in wisenet)  # in full
