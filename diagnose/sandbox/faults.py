"""Fault injection for the sandbox, for tests and training: make a chosen request fail or hang.

Faults are given explicitly — `create_app(tenant, faults=…)`, or `diagnose sandbox serve
--faults …` — as a JSON list, e.g.

    [{"method": "PATCH", "path": "/v1/learnersAU/103", "nth": 2, "status": 503},
     {"method": "GET", "path": "/api.xro/2.0/Contacts", "hang": 30}]

A fault applies to the `nth` matching request, to every one from the `from`th on, or to every
one when neither is given; it answers with `status` (and a `Retry-After` of `retry_after`
seconds when given), or holds the request for `hang` seconds. With `"applied": true` the request
is carried out first and only its answer is lost: the write happened, the client cannot know.
`"mark": FILE` creates FILE when the fault meets its request (a test waits for it).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnose.errors import UsageError


@dataclass
class Fault:
    method: str
    path: str
    nth: int | None = None
    start: int | None = None  # "from" in the JSON
    status: int | None = None
    retry_after: int | None = None
    hang: float = 0.0
    applied: bool = False
    mark: str = ""
    seen: int = field(default=0, compare=False)

    def applies(self, method: str, path: str) -> bool:
        if method != self.method or path != self.path:
            return False
        self.seen += 1
        if self.nth is not None:
            return self.seen == self.nth
        return self.start is None or self.seen >= self.start


def parse_faults(raw: str, given_as: str = "--faults") -> list[Fault]:
    """The faults of a JSON list (see above); one clear line when it is not one."""
    if not raw.strip():
        return []
    try:
        items = json.loads(raw)
        return [
            Fault(
                method=str(item["method"]).upper(),
                path=str(item["path"]),
                nth=int(item["nth"]) if item.get("nth") is not None else None,
                start=int(item["from"]) if item.get("from") is not None else None,
                status=int(item["status"]) if item.get("status") is not None else None,
                retry_after=int(item["retry_after"])
                if item.get("retry_after") is not None
                else None,
                hang=float(item.get("hang", 0)),
                applied=bool(item.get("applied", False)),
                mark=str(item.get("mark") or ""),
            )
            for item in items
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{given_as} is not a JSON list of faults: {exc}") from None


def with_faults(app: Any, faults: Sequence[Fault]) -> Any:
    if not faults:
        return app

    async def faulty(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for fault in faults:
                if fault.applies(scope["method"], scope["path"]):
                    if fault.mark:
                        Path(fault.mark).touch()
                    if fault.hang:
                        await asyncio.sleep(fault.hang)
                    if fault.applied:

                        async def lost(message: Any) -> None:
                            return None

                        await app(scope, receive, lost)
                    if fault.status:
                        body = json.dumps({"Message": "fault injected by the sandbox"}).encode()
                        headers = [(b"content-type", b"application/json")]
                        if fault.retry_after is not None:
                            headers.append((b"retry-after", str(fault.retry_after).encode()))
                        if fault.status == 429:  # as Xero names the limit it met
                            headers.append((b"x-rate-limit-problem", b"minute"))
                        await send(
                            {
                                "type": "http.response.start",
                                "status": fault.status,
                                "headers": headers,
                            }
                        )
                        await send({"type": "http.response.body", "body": body})
                        return
        await app(scope, receive, send)

    return faulty
