"""Sources wired to the real services (or anything speaking like them) for a live profile."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from diagnose.config import Profile
from diagnose.errors import UsageError
from diagnose.gather import Sources
from diagnose.model import Service
from diagnose.sources.http import CallLog, Session, client_credentials_token
from diagnose.sources.wisenet import WisenetClient
from diagnose.sources.xero import XeroClient


def _require(profile: Profile) -> tuple[str, str]:
    api_key = profile.secret("wisenet_api_key")
    secret = profile.secret("xero_client_secret")
    missing = [
        what
        for what, present in (
            ("DIAGNOSE_WISENET_API_KEY", api_key),
            ("xero_client_id", profile.xero_client_id),
            ("DIAGNOSE_XERO_CLIENT_SECRET", secret),
        )
        if not present
    ]
    if missing:
        raise UsageError(
            f"profile {profile.name!r} needs {', '.join(missing)} to reach the services"
        )
    return api_key, secret


@asynccontextmanager
async def live_sources(profile: Profile) -> AsyncIterator[Sources]:
    api_key, secret = _require(profile)
    log = CallLog()
    token = await client_credentials_token(
        profile.xero_identity_url, profile.xero_client_id, secret, log
    )
    async with (
        Session(
            Service.WISENET, profile.wisenet_url, log, headers={"x-api-key": api_key}
        ) as wisenet,
        Session(
            Service.XERO, profile.xero_url, log, headers={"Authorization": f"Bearer {token.value}"}
        ) as xero,
    ):
        yield Sources(
            wisenet=WisenetClient(wisenet, flavour=profile.wisenet_flavour),
            xero=XeroClient(xero, tenant_id=profile.xero_tenant_id or None),
            log=log,
            mode="live",
            tenant=profile.name,
            token=token,
        )
