"""What both halves of the sandbox share: its demo credentials and how it answers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

SANDBOX_API_KEY = "sandbox-wisenet-key"
SANDBOX_TOKEN = "sandbox-xero-token"  # noqa: S105
SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105


class Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    # Xero escapes "/" in its JSON ("\/Date(…)\/"); every "/" in JSON text sits inside a string.
    text = json.dumps(body).replace("/", "\\/")
    return Response(text, status, headers=dict(headers or {}), media_type="application/json")
