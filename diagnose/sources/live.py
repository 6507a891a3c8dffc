"""Sources wired to the real services (or anything speaking like them) for a live profile."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from diagnose.config import Profile
from diagnose.errors import SourceError, UsageError
from diagnose.gather import Sources
from diagnose.model import Problem, ProblemKind, Service
from diagnose.sources.http import (
    CallLog,
    Session,
    Token,
    as_token,
    client_credentials_token,
    token_request,
)
from diagnose.sources.wisenet import WisenetClient
from diagnose.sources.xero import XeroClient
from diagnose.tokens import Store


def _require(profile: Profile) -> tuple[str, str]:
    api_key = profile.secret("wisenet_api_key")
    secret = profile.secret("xero_client_secret")
    needed = [
        ("DIAGNOSE_WISENET_API_KEY", api_key),
        ("xero_client_id", profile.xero_client_id),
    ]
    if profile.xero_auth == "custom":
        needed.append(("DIAGNOSE_XERO_CLIENT_SECRET", secret))
    missing = [what for what, present in needed if not present]
    if missing:
        raise UsageError(
            f"profile {profile.name!r} needs {', '.join(missing)} to reach the services"
        )
    return api_key, secret


async def refreshed_token(profile: Profile, log: CallLog) -> tuple[Token, str]:
    """A fresh access token from the stored sign-in. Under the profile's lock, so no two
    processes spend the same single-use refresh token, and the successor is stored before the
    access token is used."""
    store = Store(profile.name)
    with store.lock():
        grant = store.load()
        if grant is None:
            raise UsageError(
                f"profile {profile.name!r} is not signed in to Xero: run "
                f"'diagnose connect xero --profile {profile.name}'"
            )
        try:
            answer = await token_request(
                profile.xero_identity_url,
                {
                    "grant_type": "refresh_token",
                    "refresh_token": grant.refresh_token,
                    "client_id": profile.xero_client_id,
                },
                log,
            )
        except SourceError as exc:
            if exc.problem.kind is ProblemKind.AUTH:
                raise SourceError(
                    Problem(
                        Service.XERO,
                        ProblemKind.AUTH,
                        f"{exc.problem.message}: sign in again with "
                        f"'diagnose connect xero --profile {profile.name}'",
                    )
                ) from None
            raise
        successor = answer.get("refresh_token")
        if isinstance(successor, str) and successor:
            store.save(grant.rotated(successor))  # durably, before the access token is used
    return as_token(answer), grant.tenant_id


@asynccontextmanager
async def live_sources(profile: Profile) -> AsyncIterator[Sources]:
    api_key, secret = _require(profile)
    log = CallLog()
    tenant_id = profile.xero_tenant_id or None
    if profile.xero_auth == "pkce":
        token, signed_in_tenant = await refreshed_token(profile, log)
        tenant_id = tenant_id or signed_in_tenant
    else:
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
            xero=XeroClient(xero, tenant_id=tenant_id),
            log=log,
            mode="live",
            tenant=profile.name,
            token=token,
        )
