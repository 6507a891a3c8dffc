"""What of the remedies' calls the audit log keeps."""

from __future__ import annotations

from typing import Any

from diagnose.sources.wisenet import WisenetClient
from diagnose.sources.xero import XeroClient


def last_call(client: WisenetClient | XeroClient) -> tuple[int | None, str | None]:
    """Status and Xero correlation id of the client's last call, for the audit log."""
    call = client.session.last_call
    return (call.status, call.correlation_id) if call else (None, None)


def requests_made(client: WisenetClient | XeroClient, since: int) -> list[dict[str, Any]]:
    """Every request the client made from call number `since` on: method, path, status and the
    service's correlation id, for the audit log (never a header or a body)."""
    return [
        {
            "service": call.service.value,
            "method": call.method,
            "path": call.path,
            "status": call.status,
            "correlation_id": call.correlation_id,
        }
        for call in client.session.log.calls[since:]
    ]
