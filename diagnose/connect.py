"""`diagnose connect xero`: sign in to Xero with the authorization-code flow and PKCE (S256).

A listener on a loopback port receives Xero's redirect; the person signs in and consents in their
browser (or a test follows the link). The code is exchanged for tokens, the organisation is
chosen from GET /connections, and the refresh token is stored (see `diagnose.tokens`).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from diagnose import parse
from diagnose.config import HttpOptions, Profile
from diagnose.errors import UsageError
from diagnose.model import Service
from diagnose.sources.calls import CallLog
from diagnose.sources.http import Session
from diagnose.sources.oauth import revoke_token, token_request
from diagnose.tokens import Grant, Store

DONE_PAGE = "Signed in to {name}. You can close this window and go back to diagnose.\n"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def redirect_address(profile_uri: str, port: int = 0) -> tuple[str, str, int, str]:
    """(the redirect URI to send, its host, its port, its path): the profile's, with `port`
    instead of its own when one is given (`--redirect-port`)."""
    parts = urlsplit(profile_uri)
    port = port or parts.port or 0
    host = f"[{parts.hostname}]" if ":" in str(parts.hostname) else str(parts.hostname)
    netloc = f"{host}:{port}"
    return f"{parts.scheme}://{netloc}{parts.path}", str(parts.hostname), port, parts.path


async def _wait_for_redirect(
    host: str, port: int, path: str, name: str
) -> tuple[asyncio.Future[dict[str, str]], Any]:
    """A one-shot listener on the loopback interface only: (the redirect's query, the server)."""
    arrived: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await asyncio.wait_for(reader.readline(), 10)).decode("latin-1")
            while (await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request_line.split(" ")
            target = urlsplit(parts[1]) if len(parts) > 1 else urlsplit("/")
            body = DONE_PAGE.format(name=name).encode()
            status = "200 OK" if target.path == path else "404 Not Found"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
            if target.path == path and not arrived.done():
                arrived.set_result({k: v[0] for k, v in parse_qs(target.query).items()})
        except (TimeoutError, ConnectionError, UnicodeDecodeError):
            pass
        finally:
            writer.close()

    # "localhost" may reach either loopback address: listen on both (never on another interface)
    hosts = ["127.0.0.1", "::1"] if host == "localhost" else [host.strip("[]")]
    try:
        server = await asyncio.start_server(handle, hosts, port)
    except OSError:
        try:  # a machine without IPv6
            server = await asyncio.start_server(handle, "127.0.0.1", port)
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port} for the sign-in ({exc}): close what uses the "
                "port, or register another redirect URI and set redirect_uri in the profile"
            ) from None
    return arrived, server


async def _sign_in(
    *,
    authorize_url: str,
    token_base: str,
    endpoint: str,
    service: Service,
    client_id: str,
    scopes: str,
    announce: Callable[[str], None],
    open_browser: bool,
    timeout: float,
    log: CallLog,
    options: HttpOptions,
    redirect_uri: str,
    redirect_port: int = 0,
    client_secret: str = "",
) -> Mapping[str, Any]:
    """The authorization-code flow with PKCE (S256) through a loopback redirect; a confidential
    client (a `client_secret`) also authenticates itself at the token endpoint."""
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(16)
    name = "Xero" if service is Service.XERO else "Wisenet"
    redirect, host, port, path = redirect_address(redirect_uri, redirect_port)
    arrived, server = await _wait_for_redirect(host, port, path, name)
    query_params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if scopes:
        query_params["scope"] = scopes
    address = f"{authorize_url}?{urlencode(query_params)}"
    announce(
        f"Redirect URI (registered for your {name} app): {redirect}\n"
        f"Sign in to {name} and allow access at this address:\n{address}"
    )
    if open_browser:
        import webbrowser

        webbrowser.open(address)
    try:
        query = await asyncio.wait_for(arrived, timeout)
    except TimeoutError:
        raise UsageError(f"no sign-in arrived within {timeout:.0f} s; nothing was stored") from None
    finally:
        server.close()
    if query.get("state") != state:
        raise UsageError("the sign-in answer does not match this request; nothing was stored")
    if "code" not in query:
        raise UsageError(f"{name} did not sign in: {query.get('error', 'no code')}")
    answer = await token_request(
        token_base,
        {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": redirect,
            "code_verifier": verifier,
            "client_id": client_id,
        },
        log,
        service=service,
        path=endpoint,
        options=options,
        basic_auth=(client_id, client_secret) if client_secret else None,
    )
    if not isinstance(answer.get("refresh_token"), str) or not answer["refresh_token"]:
        raise UsageError(f"{name} gave no refresh token: the app needs offline access")
    return answer


async def connect_xero(
    profile: Profile,
    *,
    announce: Callable[[str], None],
    choose: Callable[[list[tuple[str, str]]], str],
    open_browser: bool = True,
    timeout: float = 300.0,
    redirect_port: int = 0,
) -> Grant:
    if profile.is_sandbox or profile.xero_auth != "pkce":
        raise UsageError(
            f'profile {profile.name!r} does not sign in to Xero (set xero_auth = "pkce" in it)'
        )
    if not profile.xero_client_id:
        raise UsageError(f"profile {profile.name!r} needs xero_client_id (your Xero app's)")
    log = CallLog()
    answer = await _sign_in(
        authorize_url=f"{profile.xero_login_url}/identity/connect/authorize",
        token_base=profile.xero_identity_url,
        endpoint="/connect/token",
        service=Service.XERO,
        client_id=profile.xero_client_id,
        scopes=profile.xero_scopes,
        announce=announce,
        open_browser=open_browser,
        timeout=timeout,
        log=log,
        options=profile.http,
        redirect_uri=profile.redirect_uri,
        redirect_port=redirect_port,
    )
    bearer = {"Authorization": f"Bearer {answer['access_token']}"}
    async with Session(
        Service.XERO,
        profile.xero_url,
        log,
        headers=bearer,
        options=profile.http,
        setting="xero_url",
    ) as xero:
        connections = await xero.get("/connections")
    organisations = [
        (parse.text(c, "tenantId"), parse.text(c, "tenantName"))
        for c in connections or []
        if isinstance(c, Mapping) and parse.text(c, "tenantType") == "ORGANISATION"
    ]
    if not organisations:
        raise UsageError("the sign-in allowed no organisation; nothing was stored")
    tenant_id = profile.xero_tenant_id or (
        organisations[0][0] if len(organisations) == 1 else choose(organisations)
    )
    name = dict(organisations).get(tenant_id)
    if name is None:
        raise UsageError(f"organisation {tenant_id!r} was not among those allowed")
    grant = Grant(str(answer["refresh_token"]), tenant_id, name, str(answer.get("scope", "")))
    store = Store(profile.name)
    with store.lock():
        store.save(grant)
    return grant


async def connect_wisenet_oauth(
    profile: Profile,
    *,
    announce: Callable[[str], None],
    open_browser: bool = True,
    timeout: float = 300.0,
    redirect_port: int = 0,
) -> Grant:
    """Sign in to Wisenet's authorisation server (OAuth 2.1 with PKCE) and keep the sign-in."""
    if not profile.wisenet_client_id:
        raise UsageError(
            f"profile {profile.name!r} needs wisenet_client_id "
            "(Wisenet › Settings › Developer Tools)"
        )
    answer = await _sign_in(
        authorize_url=f"{profile.wisenet_auth_url}/api/oauth/authorize",
        token_base=profile.wisenet_auth_url,
        endpoint="/api/oauth/token",
        service=Service.WISENET,
        client_id=profile.wisenet_client_id,
        scopes=profile.wisenet_scopes,
        announce=announce,
        open_browser=open_browser,
        timeout=timeout,
        log=CallLog(),
        options=profile.http,
        redirect_uri=profile.redirect_uri,
        redirect_port=redirect_port,
        client_secret=profile.secret("wisenet_client_secret"),
    )
    grant = Grant(str(answer["refresh_token"]), "", "Wisenet", str(answer.get("scope", "")))
    store = Store(profile.name, "wisenet")
    with store.lock():
        store.save(grant)
    return grant


async def disconnect_xero(profile: Profile) -> str:
    store = Store(profile.name)
    with store.lock():
        grant = store.load()
        if grant is None:
            return f"profile {profile.name!r} was not signed in to Xero"
        await revoke_token(
            profile.xero_identity_url,
            grant.refresh_token,
            profile.xero_client_id,
            CallLog(),
            profile.http,
        )
        store.forget()
    return f"signed out of {grant.tenant_name}: Xero revoked the sign-in and diagnose forgot it"
