"""Calls as the rest of the code sees them, without the HTTP library: the request a client
builds, the log of calls made for one diagnosis, and what a usable answer looks like."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from diagnose.model import ApiCall

Shape = Callable[[Any], bool]  # what a usable answer looks like


def a_list(body: Any) -> bool:
    return isinstance(body, list)


def envelope(name: str) -> Shape:
    """Xero's `{"Contacts": [...]}`, Wisenet's `{"Data": {...}}`: an object holding `name`."""

    def holds(body: Any) -> bool:
        return isinstance(body, Mapping) and isinstance(body.get(name), list | Mapping)

    return holds


@dataclass(frozen=True)
class Request:
    """A request as a client will send it: what a plan shows is what goes on the wire."""

    method: str
    path: str  # below the session's base address, with its query when it has one
    body: Any = None  # JSON
    headers: Mapping[str, str] = field(default_factory=dict)

    def shown(self, base_path: str = "") -> str:
        """One line: the method, the whole path, the body, and an Idempotency-Key."""
        text = f"{self.method} {base_path}{self.path}"
        if self.body is not None:
            text += f"  {json.dumps(self.body)}"
        if "Idempotency-Key" in self.headers:
            text += f"  (Idempotency-Key: {self.headers['Idempotency-Key']})"
        return text


# The round of the calls a task makes, when it runs beside others that are in another round (a
# scan's Xero pages go on while Wisenet's are still coming); unset, the log's `round` is theirs.
ROUND: ContextVar[int | None] = ContextVar("ROUND", default=None)


@dataclass
class CallLog:
    """Every call made for one diagnosis; `round` is set by the gatherer before each wave."""

    calls: list[ApiCall] = field(default_factory=list)
    round: int = 0
