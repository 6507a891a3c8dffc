"""The services' limits, shared by every `diagnose` process on this machine.

Xero allows an app 5 calls in flight and 60 calls a minute per organisation; Wisenet 10 calls a
second per API key. Twenty people diagnosing at once must share that, or they fall into a storm
of 429s. Each process takes one of the slot locks for a call in flight (Xero's 5), and stamps
each call in a small file of the window's calls (under a lock). A call that would have to wait
longer than the profile's `max_wait` is not made: it fails at once as rate-limited (exit 4) with
when to try again.

The files live in the cache folder: they only pace calls, and a damaged one is read as empty.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from diagnose.errors import SourceError
from diagnose.model import Problem, ProblemKind, Service
from diagnose.paths import write_atomically
from diagnose.sources import policy as policies

WINDOW = 61.0  # Xero's minute, and a second's margin for calls still on their way
WISENET_WINDOW = 1.1  # Wisenet's second, and a margin for calls still on their way
POLL = 0.05  # how often a process looks for a free slot


@dataclass
class SharedBudget:
    """`per_window` calls in any `window` seconds, and `concurrent` at once (0: no cap), per
    organisation (Xero) or per API key (Wisenet: the `key` of every call)."""

    folder: Path
    per_window: int = 60
    concurrent: int = 5
    max_wait: float = 60.0
    clock: Callable[[], float] | None = None  # else the policy's wall clock
    window: float = WINDOW
    service: Service = Service.XERO
    key: str | None = None  # each call's, when the calls do not name whose budget they spend

    @asynccontextmanager
    async def call(self, organisation: str | None = None) -> AsyncIterator[None]:
        """Hold a slot and a place in the window for one call to `organisation` (or `key`)."""
        whose = f"{self.service.value}:{self.key or organisation}"
        key = hashlib.sha256(whose.encode()).hexdigest()[:16]
        self.folder.mkdir(parents=True, exist_ok=True)
        slot, waited = await self._slot(key) if self.concurrent else (None, 0.0)
        try:
            await self._stamp(key, waited)
            yield
        finally:
            if slot is not None:
                slot.release()

    @property
    def _whom(self) -> str:
        return "this organisation" if self.service is Service.XERO else "this Wisenet API key"

    @property
    def _per(self) -> str:
        return "a minute" if self.window >= 60 else "a second"

    async def _slot(self, key: str) -> tuple[FileLock, float]:
        waited = 0.0
        while True:
            for n in range(self.concurrent):
                lock = FileLock(self.folder / f"{key}.slot{n}", timeout=0)
                with suppress(Timeout):
                    lock.acquire()
                    return lock, waited
            if waited >= self.max_wait:
                raise self._limited(
                    f"{self.concurrent} calls to {self._whom} are already in flight from "
                    f"other diagnose runs; waited {waited:.0f} s (max_wait)"
                )
            await policies.pause(POLL)
            waited += POLL

    async def _stamp(self, key: str, waited: float) -> None:
        path = self.folder / f"{key}.window.json"
        while True:
            with FileLock(self.folder / f"{key}.window.lock", timeout=30):
                now = (self.clock or policies.wall_clock)()
                stamps = [t for t in _read(path) if now - self.window < t <= now]
                if len(stamps) < self.per_window:
                    stamps.append(now)
                    # a window's stamps are not worth a flush to disk: a crash forgets them
                    write_atomically(path, json.dumps(stamps), durable=False)
                    return
                free_in = stamps[-self.per_window] + self.window - now
            if waited + free_in > self.max_wait:
                raise self._limited(
                    f"{self.per_window} calls {self._per} to {self._whom} are spent (other "
                    f"diagnose runs share them); the next is free in {free_in:.0f} s, past "
                    f"max_wait ({self.max_wait:g} s): try again then"
                )
            await policies.pause(free_in)
            waited += free_in

    def _limited(self, why: str) -> SourceError:
        name = "Xero" if self.service is Service.XERO else "Wisenet"
        return SourceError(Problem(self.service, ProblemKind.RATE_LIMITED, f"{name}: {why}"))


def _read(path: Path) -> list[float]:
    try:
        stamps = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return []
    if not isinstance(stamps, list):
        return []
    return [float(t) for t in stamps if isinstance(t, int | float)]
