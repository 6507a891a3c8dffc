"""Sources wired to the real services (or anything speaking like them) for a live profile."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from diagnose.config import Profile
from diagnose.errors import SourceError, UsageError
from diagnose.model import ApiCall, Problem, ProblemKind, Service
from diagnose.paths import cache_dir
from diagnose.sources.both import Sources
from diagnose.sources.budget import WISENET_WINDOW, SharedBudget
from diagnose.sources.calls import CallLog
from diagnose.sources.http import Session
from diagnose.sources.oauth import Token, as_token, client_credentials_token, token_request
from diagnose.sources.policy import POLICIES
from diagnose.sources.wisenet import WisenetClient
from diagnose.sources.xero import XeroClient
from diagnose.tokens import Store


def _require(profile: Profile) -> tuple[str, str]:
    api_key = profile.secret("wisenet_api_key")
    secret = profile.secret("xero_client_secret")
    name = profile.name
    needed = [("xero_client_id (your Xero app's)", profile.xero_client_id)]
    if profile.wisenet_auth == "api-key":
        where = f"`diagnose connect wisenet --profile {name}`, or $DIAGNOSE_WISENET_API_KEY"
        needed.insert(0, (f"a Wisenet API key ({where})", api_key))
    if profile.xero_auth == "custom":
        needed.append(("the custom connection's secret ($DIAGNOSE_XERO_CLIENT_SECRET)", secret))
    missing = [what for what, present in needed if not present]
    if missing:
        raise UsageError(f"profile {name!r} needs {' and '.join(missing)} to reach the services")
    return api_key, secret


async def refreshed_token(
    profile: Profile, log: CallLog, service: Service = Service.XERO
) -> tuple[Token, str]:
    """A fresh access token from the stored sign-in. Under the profile's lock, so no two
    processes spend the same single-use refresh token, and the successor is stored before the
    access token is used."""
    xero = service is Service.XERO
    store = Store(profile.name, "xero" if xero else "wisenet")
    name = "Xero" if xero else "Wisenet"
    again = f"'diagnose connect {name.lower()} --profile {profile.name}'"
    with store.lock():
        grant = store.load()
        if grant is None:
            raise UsageError(f"profile {profile.name!r} is not signed in to {name}: run {again}")
        client_id = profile.xero_client_id if xero else profile.wisenet_client_id
        secret = "" if xero else profile.secret("wisenet_client_secret")
        try:
            answer = await token_request(
                profile.xero_identity_url if xero else profile.wisenet_auth_url,
                {
                    "grant_type": "refresh_token",
                    "refresh_token": grant.refresh_token,
                    "client_id": client_id,
                },
                log,
                service=service,
                path="/connect/token" if xero else "/api/oauth/token",
                options=profile.http,
                basic_auth=(client_id, secret) if secret else None,
            )
        except SourceError as exc:
            if exc.problem.kind is ProblemKind.AUTH:
                raise SourceError(
                    Problem(
                        service,
                        ProblemKind.AUTH,
                        f"{exc.problem.message}: sign in again with {again}",
                    )
                ) from None
            raise
        successor = answer.get("refresh_token")
        if isinstance(successor, str) and successor:
            store.save(grant.rotated(successor))  # durably, before the access token is used
    return as_token(answer), grant.tenant_id


def xero_budget(profile: Profile) -> SharedBudget:
    """Xero's limits for each organisation, shared with every other diagnose process here."""
    xero = POLICIES[Service.XERO]
    return SharedBudget(
        cache_dir() / "budget",
        per_window=xero.per_minute or 60,
        concurrent=xero.concurrency or 5,
        max_wait=profile.http.max_wait,
    )


def wisenet_budget(profile: Profile, credential: str) -> SharedBudget:
    """Wisenet's calls a second for the API key (or sign-in) `credential` names, shared with
    every other diagnose process here. Only a digest of it names the budget's files."""
    wisenet = POLICIES[Service.WISENET]
    digest = hashlib.sha256(f"{profile.wisenet_url}\n{credential}".encode()).hexdigest()
    return SharedBudget(
        cache_dir() / "budget",
        per_window=wisenet.per_second or 10,
        concurrent=0,
        max_wait=profile.http.max_wait,
        window=WISENET_WINDOW,
        service=Service.WISENET,
        key=digest,
    )


async def _wisenet_sign_in(
    profile: Profile, log: CallLog, api_key: str
) -> tuple[Token | None, dict[str, str], str]:
    """Wisenet's token (OAuth), the headers its calls carry, and whose budget they spend."""
    if profile.wisenet_auth == "oauth":
        token, _ = await refreshed_token(profile, log, Service.WISENET)
        return token, {"Authorization": f"Bearer {token.value}"}, profile.name
    return None, {"x-api-key": api_key}, api_key


def _wisenet_session(
    profile: Profile, log: CallLog, headers: dict[str, str], whose: str
) -> Session:
    return Session(
        Service.WISENET,
        profile.wisenet_url,
        log,
        headers=headers,
        options=profile.http,
        budget=wisenet_budget(profile, whose),
        setting="wisenet_url",
    )


@asynccontextmanager
async def live_wisenet(profile: Profile) -> AsyncIterator[WisenetClient]:
    """Wisenet alone, signed in: `diagnose status` asks it when Xero's sign-in failed."""
    log = CallLog([])
    _, headers, whose = await _wisenet_sign_in(profile, log, _require(profile)[0])
    async with _wisenet_session(profile, log, headers, whose) as wisenet:
        yield WisenetClient(wisenet, flavour=profile.wisenet_flavour)


@asynccontextmanager
async def live_sources(
    profile: Profile, calls: list[ApiCall] | None = None
) -> AsyncIterator[Sources]:
    """Both clients of a live profile, signed in; `calls` receives each call as it is made."""
    api_key, secret = _require(profile)
    log = CallLog(calls if calls is not None else [])
    tenant_id = profile.xero_tenant_id or None
    if profile.xero_auth == "pkce":
        token, signed_in_tenant = await refreshed_token(profile, log)
        tenant_id = tenant_id or signed_in_tenant
    else:
        token = await client_credentials_token(
            profile.xero_identity_url, profile.xero_client_id, secret, log, profile.http
        )
    wisenet_token, wisenet_headers, whose = await _wisenet_sign_in(profile, log, api_key)
    async with (
        _wisenet_session(profile, log, wisenet_headers, whose) as wisenet,
        Session(
            Service.XERO,
            profile.xero_url,
            log,
            headers={"Authorization": f"Bearer {token.value}"},
            options=profile.http,
            budget=xero_budget(profile),
            setting="xero_url",
        ) as xero,
    ):
        yield Sources(
            wisenet=WisenetClient(wisenet, flavour=profile.wisenet_flavour),
            xero=XeroClient(
                xero,
                tenant_id=tenant_id,
                bound=profile.xero_auth == "custom",
                named_by="profile" if profile.xero_tenant_id else "sign-in",
            ),
            log=log,
            mode="live",
            tenant=profile.name,
            token=token,
            wisenet_token=wisenet_token,
        )
