"""How politely we call each service: retries, pacing and concurrency — one policy for both.

- Reads are retried: a 429 after its `Retry-After`, a 5xx, a timeout or a dropped connection
  after a jittered exponential backoff; never past `max_wait` for one pause or `total_wait` in
  all (a day limit's `Retry-After` of hours is not waited for: it is reported).
- Writes are retried only when they carry an `Idempotency-Key`.
- Xero: at most 5 calls in flight and 60 a minute per organisation; Wisenet: 10 a second.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from diagnose.model import ProblemKind, Service


async def pause(seconds: float) -> None:
    """Every wait of the policy goes through here (tests replace it)."""
    await asyncio.sleep(seconds)


def wall_clock() -> float:
    """The time every process agrees on, for budgets shared between them (tests replace it)."""
    return time.time()


RETRYABLE = (ProblemKind.RATE_LIMITED, ProblemKind.TIMEOUT, ProblemKind.UNREACHABLE)


@dataclass
class Policy:
    attempts: int = 6  # for reads, and for writes with an Idempotency-Key
    backoff: float = 0.5  # first pause; doubles each attempt, with jitter
    max_wait: float = 60.0  # the longest single pause; a longer Retry-After is not waited for
    total_wait: float = 120.0
    concurrency: int | None = None
    per_minute: int | None = None
    per_second: int | None = None

    def delay(
        self, kind: ProblemKind, status: int | None, retry_after: float | None, attempt: int
    ) -> float | None:
        """How long to wait before another attempt, or None when it is not worth one."""
        garbled = status is not None and 200 <= status < 300  # a body cut short on the way
        retryable = kind in RETRYABLE or (
            kind is ProblemKind.BAD_RESPONSE and (status is None or status >= 500 or garbled)
        )
        if not retryable:
            return None
        if (
            retry_after is not None
        ):  # spread out, so that clients told alike do not all return at once
            spread = 1 + random.random() / 2  # noqa: S311 — not for security
            return retry_after * spread if retry_after <= self.max_wait else None
        jitter = 0.5 + random.random() / 2  # noqa: S311 — not for security
        return min(self.max_wait, self.backoff * 2.0**attempt * jitter)


POLICIES = {
    Service.XERO: Policy(concurrency=5, per_minute=60),
    Service.WISENET: Policy(per_second=10),
}


@dataclass
class Limiter:
    """Concurrency and pacing for one service's calls in this process."""

    policy: Policy
    clock: Callable[[], float] = time.monotonic
    _stamps: deque[float] = field(default_factory=deque)
    _slots: asyncio.Semaphore | None = None

    def __post_init__(self) -> None:
        if self.policy.concurrency:
            self._slots = asyncio.Semaphore(self.policy.concurrency)

    async def __aenter__(self) -> None:
        if self._slots is not None:
            await self._slots.acquire()
        await self._pace()

    async def __aexit__(self, *exc: object) -> None:
        if self._slots is not None:
            self._slots.release()

    async def _pace(self) -> None:
        windows = [
            (span, limit)
            for span, limit in ((60.0, self.policy.per_minute), (1.0, self.policy.per_second))
            if limit
        ]
        while True:
            now = self.clock()
            while self._stamps and now - self._stamps[0] >= 60.0:
                self._stamps.popleft()
            waits = []
            for span, limit in windows:
                recent = [t for t in self._stamps if now - t < span]
                if len(recent) >= limit:
                    waits.append(span - (now - recent[-limit]))
            if not waits:
                self._stamps.append(now)
                return
            await pause(max(waits))
