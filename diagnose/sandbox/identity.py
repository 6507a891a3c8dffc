"""The sandbox's Xero identity service: `POST /connect/token` issuing expiring access tokens.

It serves the client-credentials grant of a Xero custom connection, with the sandbox's demo
client. The API halves accept these tokens (and the fixed in-process token) as bearers.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from diagnose.sandbox.responses import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, json_response

ACCESS_SECONDS = 1800  # as Xero's


@dataclass
class Identity:
    access_seconds: int = ACCESS_SECONDS
    issued: dict[str, float] = field(default_factory=dict)  # access token → expiry (monotonic)

    def accepts(self, token: str) -> bool:
        expiry = self.issued.get(token)
        return expiry is not None and time.monotonic() < expiry

    async def token(self, request: Request) -> Response:
        form = {
            k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()
        }
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
            except ValueError:
                client_id = client_secret = None
        if (client_id, client_secret) != (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET):
            return json_response({"error": "invalid_client"}, 400)
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        token = secrets.token_urlsafe(32)
        self.issued[token] = time.monotonic() + self.access_seconds
        return json_response(
            {
                "access_token": token,
                "expires_in": self.access_seconds,
                "token_type": "Bearer",
                "scope": "accounting.contacts accounting.transactions.read",
            }
        )
