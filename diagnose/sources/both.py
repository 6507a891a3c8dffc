"""`Sources`: both clients one command opened — Wisenet's and Xero's — sharing one call log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from diagnose.sources.calls import CallLog
from diagnose.sources.wisenet import WisenetClient
from diagnose.sources.xero import XeroClient

T = TypeVar("T")


@dataclass
class Sources:
    """Both clients for one diagnosis, sharing one call log."""

    wisenet: WisenetClient
    xero: XeroClient
    log: CallLog
    mode: str  # "sandbox" or "live"
    tenant: str
    alerts: list[Any] | None = None  # Event Alerts rows, when known
    token: Any = None  # a live Xero token's expiry and scopes, for `diagnose status`
    wisenet_token: Any = None  # a Wisenet sign-in's token, when it signs in with OAuth
    in_memory: bool = False

    def parsed(self, parser: Callable[[Any], T], record: Any) -> T:
        return parser(record)

    @property
    def lifetime(self) -> int:
        """Seconds until the first of its tokens expires; 0 when none does."""
        lives = [t.expires_in for t in (self.token, self.wisenet_token) if t and t.expires_in]
        return min(lives, default=0)
