"""The sandbox's Xero identity service, as a test double of login.xero.com / identity.xero.com:

- `GET /identity/connect/authorize`: the consent page, which consents at once and redirects to
  the (loopback) `redirect_uri` with a code — whoever follows the link plays the browser;
- `POST /connect/token`: `authorization_code` with PKCE (S256), `refresh_token` with rotating,
  single-use refresh tokens (the previous one still works for 30 minutes if its successor was
  never used, as Xero's grace period), and `client_credentials` for a custom connection;
- `POST /connect/revocation`.

Access tokens expire (`access_seconds`); the API halves accept only live ones. Each token
carries the scopes it was granted: a sign-in gets what it asked for (an unknown scope is Xero's
`invalid_scope`), a refresh keeps its sign-in's scopes, and the demo custom connection has the
read scopes plus `accounting.contacts`, as an organisation would enable them for it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from diagnose.config import REDIRECT_URI
from diagnose.sandbox.responses import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, json_response

ACCESS_SECONDS = 1800  # as Xero's
GRACE_SECONDS = 1800
# what the demo custom connection (`sandbox-client` with its secret) was granted
CUSTOM_SCOPE = (
    "accounting.contacts accounting.contacts.read accounting.invoices.read "
    "accounting.transactions.read"
)
KNOWN_SCOPES = frozenset(
    {"openid", "profile", "email", "offline_access"}
    | {
        f"accounting.{area}{read}"
        for area in ("contacts", "transactions", "invoices", "settings", "attachments")
        for read in ("", ".read")
    }
)


@dataclass
class _Refresh:
    family: str
    scope: str = ""
    successor: str | None = None
    successor_used: bool = False
    replaced_at: float | None = None


@dataclass
class Identity:
    access_seconds: int = ACCESS_SECONDS
    issued: dict[str, float] = field(default_factory=dict)  # access token → expiry (monotonic)
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code → (challenge, redirect)
    code_scopes: dict[str, str] = field(default_factory=dict)  # code → the scopes consented to
    scopes: dict[str, frozenset[str]] = field(default_factory=dict)  # access token → its scopes
    refresh: dict[str, _Refresh] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)  # revoked families
    custom: set[str] = field(default_factory=set)  # access tokens of the custom connection
    given: list[str] = field(default_factory=list)  # every code and token handed out, for tests
    checks_scopes: bool = True  # Xero's does; Wisenet's scope names are its apps' own
    # the redirect URIs registered for the demo client (`sandbox serve --redirect-uri`)
    redirect_uris: tuple[str, ...] = (REDIRECT_URI,)

    def accepts(self, token: str) -> bool:
        expiry = self.issued.get(token)
        return expiry is not None and time.monotonic() < expiry

    def bound(self, token: str) -> bool:
        """Whether `token` is a custom connection's: bound to one organisation, so its calls
        need not name it (`xero-tenant-id`), as Xero's custom connections."""
        return token in self.custom and self.accepts(token)

    def allows(self, token: str, scope: str) -> bool:
        """Whether a live `token` was granted `scope`."""
        return self.accepts(token) and scope in self.scopes.get(token, frozenset())

    # -- the consent page ------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        query = request.query_params
        redirect = query.get("redirect_uri", "")
        host = urlsplit(redirect).hostname or ""
        if query.get("client_id") == SANDBOX_CLIENT_ID and redirect not in self.redirect_uris:
            # as Xero: only a redirect URI registered for the app, exactly; no redirect back
            answer = {"error": "unauthorized_client", "error_description": "Invalid redirect_uri"}
            return json_response(answer, 400)
        problems = [
            query.get("response_type") != "code" and "response_type must be code",
            query.get("client_id") != SANDBOX_CLIENT_ID and "unknown client_id",
            host not in ("127.0.0.1", "localhost", "::1") and "redirect_uri must be loopback",
            query.get("code_challenge_method") != "S256" and "PKCE with S256 is required",
            not query.get("code_challenge") and "code_challenge is missing",
        ]
        errors = [p for p in problems if p]
        if errors:
            return json_response({"error": "invalid_request", "error_description": errors[0]}, 400)
        state = query.get("state", "")
        asked = query.get("scope", "").split()
        if any(scope not in KNOWN_SCOPES for scope in asked) and self.checks_scopes:
            answer = {"error": "invalid_scope", "state": state}
            return RedirectResponse(f"{redirect}?{urlencode(answer)}", 302)
        code = secrets.token_urlsafe(24)
        self.given.append(code)
        self.codes[code] = (query["code_challenge"], redirect)
        self.code_scopes[code] = " ".join(asked)
        return RedirectResponse(f"{redirect}?{urlencode({'code': code, 'state': state})}", 302)

    # -- tokens ------------------------------------------------------------------------------------

    def _tokens(self, family: str, scope: str) -> dict[str, object]:
        access = secrets.token_urlsafe(32)
        self.issued[access] = time.monotonic() + self.access_seconds
        self.scopes[access] = frozenset(scope.split())
        refresh = secrets.token_urlsafe(32)
        self.refresh[refresh] = _Refresh(family, scope)
        self.given += [access, refresh]
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": self.access_seconds,
            "token_type": "Bearer",
            "scope": scope,
        }

    @staticmethod
    def _client(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            try:
                client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            except ValueError:
                return None, None
            return client_id, secret
        return form.get("client_id"), form.get("client_secret")

    async def token(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body).items()}
        client_id, secret = self._client(request, form)
        grant = form.get("grant_type")
        if client_id != SANDBOX_CLIENT_ID:
            return json_response({"error": "invalid_client"}, 400)
        if secret is not None and secret != SANDBOX_CLIENT_SECRET:
            return json_response({"error": "invalid_client"}, 400)  # a confidential client's
        if grant == "client_credentials":
            if secret != SANDBOX_CLIENT_SECRET:
                return json_response({"error": "invalid_client"}, 400)
            answer = self._tokens(secrets.token_hex(8), CUSTOM_SCOPE)
            answer.pop("refresh_token")  # custom connections get no refresh token
            self.custom.add(str(answer["access_token"]))
            return json_response(answer)
        if grant == "authorization_code":
            scope = self.code_scopes.pop(form.get("code", ""), "")
            found = self.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .decode()
                .rstrip("=")
            )
            if found is None or found != (challenge, form.get("redirect_uri", "")):
                return json_response({"error": "invalid_grant"}, 400)
            return json_response(self._tokens(secrets.token_hex(8), scope))
        if grant == "refresh_token":
            return self._rotate(form.get("refresh_token", ""))
        return json_response({"error": "unsupported_grant_type"}, 400)

    def _rotate(self, old: str) -> Response:
        entry = self.refresh.get(old)
        now = time.monotonic()
        if entry is None or entry.family in self.revoked:
            return json_response({"error": "invalid_grant"}, 400)
        if entry.successor is not None:
            within_grace = entry.replaced_at is not None and now - entry.replaced_at < GRACE_SECONDS
            if entry.successor_used or not within_grace:
                return json_response({"error": "invalid_grant"}, 400)
            self.refresh.pop(entry.successor, None)  # the lost answer is replaced
        answer = self._tokens(entry.family, entry.scope)
        entry.successor = str(answer["refresh_token"])
        entry.replaced_at = now
        for other in self.refresh.values():  # using a token marks it as its parent's used child
            if other.successor == old:
                other.successor_used = True
        return json_response(answer)

    async def revoke(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        token = {k: v[0] for k, v in parse_qs(body).items()}.get("token", "")
        entry = self.refresh.get(token)
        if entry is not None:
            self.revoked.add(entry.family)
        return Response(status_code=200)
