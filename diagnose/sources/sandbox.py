"""Sources wired to the in-process sandbox: the real clients, an ASGI transport, no socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from diagnose.model import ApiCall, Service
from diagnose.sandbox.app import SANDBOX_API_KEY, SANDBOX_TOKEN, create_app
from diagnose.sandbox.tenant import Tenant
from diagnose.sources.both import Sources
from diagnose.sources.calls import CallLog
from diagnose.sources.http import Session, asgi_transport
from diagnose.sources.wisenet import WisenetClient
from diagnose.sources.xero import XeroClient

WISENET_URL = "http://wisenet.sandbox/v1"
XERO_URL = "http://xero.sandbox"


@asynccontextmanager
async def sandbox_sources(
    tenant: Tenant,
    *,
    app: Any = None,
    on_write: Callable[[str], None] | None = None,
    calls: list[ApiCall] | None = None,
) -> AsyncIterator[Sources]:
    """Sources for `tenant`; `on_write` runs after each write the sandbox accepts; `app`
    replaces the sandbox app (tests wrap it to watch or break it)."""
    transport = asgi_transport(app if app is not None else create_app(tenant, on_write=on_write))
    log = CallLog(calls if calls is not None else [])  # `calls` sees each call as it is made
    async with (
        Session(
            Service.WISENET,
            WISENET_URL,
            log,
            headers={"x-api-key": SANDBOX_API_KEY},
            transport=transport,
        ) as wisenet,
        Session(
            Service.XERO,
            XERO_URL,
            log,
            headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
            transport=transport,
        ) as xero,
    ):
        yield Sources(
            wisenet=WisenetClient(wisenet),
            xero=XeroClient(xero, tenant_id=tenant.tenant_id),
            log=log,
            mode="sandbox",
            tenant=tenant.organisation,
            alerts=tenant.event_alerts,
        )
