"""`diagnose sandbox serve`: the sandbox on a real loopback socket, behaving like the services
under load — Xero's per-organisation limits (calls a minute, calls at once, calls a day) with
its headers and 429s, Wisenet's calls a second per API key, added latency, and a seeded mix of
injected faults: 503s, 429s, answers slower than a client waits, dropped connections and
spoiled JSON bodies.

Only loopback addresses are served: this is a test double, never a public server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import ClientDisconnect

from diagnose.errors import UsageError

LOOPBACK = "127.0.0.1"


@dataclass
class Limits:
    per_minute: int = 60  # Xero's, per organisation
    concurrent: int = 5
    per_day: int = 5000
    wisenet_per_second: int = 10  # Wisenet's, per API key (or sign-in)


RATES = {
    ("xero", "min"): "per_minute",
    ("xero", "day"): "per_day",
    ("wisenet", "s"): "wisenet_per_second",
}


def parse_rate_limits(texts: list[str]) -> Limits:
    """`xero=60/min`, `xero=5000/day` and `wisenet=10/s`, each at most once; what is not said
    stays the services' own."""
    limits = Limits()
    said = set()
    for text in texts:
        match = re.fullmatch(r"\s*(xero|wisenet)\s*=\s*(\d+)\s*/\s*(min|day|s)\s*", text)
        field_name = RATES.get((match.group(1), match.group(3))) if match else None
        if match is None or field_name is None or int(match.group(2)) < 1:
            raise UsageError(
                f"--rate-limit {text!r}: say for example xero=60/min, xero=5000/day or wisenet=10/s"
            )
        if field_name in said:
            raise UsageError(f"--rate-limit: {match.group(1)}'s {match.group(3)} is limited twice")
        said.add(field_name)
        setattr(limits, field_name, int(match.group(2)))
    return limits


@dataclass
class _Window:
    limits: Limits
    minute_start: float = field(default_factory=time.monotonic)
    minute_count: int = 0
    day_count: int = 0
    in_flight: int = 0


@dataclass(frozen=True)
class Mix:
    """Shares of requests (0 to 1, together at most 1) that meet each injected fault."""

    fail: float = 0.0  # answered 503
    drop: float = 0.0  # connection dropped mid-answer
    throttle: float = 0.0  # answered 429 with a Retry-After of 0 or 1 s
    slow: float = 0.0  # held `slow_ms` before the answer (beyond a client's timeout)
    garble: float = 0.0  # a 2xx body truncated, made invalid, or valid JSON of the wrong shape
    slow_ms: int = 2000

    def pick(self, roll: float) -> str | None:
        edge = 0.0
        for name in ("fail", "drop", "throttle", "slow", "garble"):
            edge += getattr(self, name)
            if roll < edge:
                return name
        return None


def garbled(body: bytes, how: int) -> tuple[bytes, str]:
    """A JSON body spoiled one of three ways, and which."""
    if how == 0:
        return body[: len(body) // 2], "truncated"
    if how == 1:
        return body + b"\n}{", "malformed"
    try:
        document = json.loads(body)
    except ValueError:  # not JSON to begin with: cut it short instead
        return body[: len(body) // 2], "truncated"
    flipped = [document] if isinstance(document, dict) else {"Data": document}
    return json.dumps(flipped).encode(), "shape"


class Behaviour:
    """Xero's limits by the server's own clock, latency and injected faults, around `app` (an
    ASGI app itself). With `given` (the test switch `--test-harness` of `sandbox serve`), every
    request is logged with the fault it met (`GET /_sandbox/requests`) and `given` lists every
    code and token the sandbox handed out (`GET /_sandbox/secrets`), so that tests can look for
    them where they must never be; without it those paths are unknown routes, as on the real
    services."""

    def __init__(
        self,
        app: Any,
        *,
        limits: Limits,
        latency_ms: int = 0,
        mix: Mix = Mix(),
        seed: int | None = None,
        given: Callable[[], list[str]] | None = None,
    ) -> None:
        self.app = app
        self.limits = limits
        self.latency_ms = latency_ms
        self.mix = mix
        self.given = given
        self.chance = random.Random(seed)  # noqa: S311 — a test double's dice
        self.windows: dict[str, _Window] = {}
        self.seconds: dict[str, tuple[int, int]] = {}  # Wisenet: each key's second, calls in it
        self.arrivals: list[dict[str, Any]] = []  # every request, by the server's own clock

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.given is not None and scope["path"] == "/_sandbox/requests":  # for tests only
            await _send_json(send, 200, self.arrivals, {})
            return
        if self.given is not None and scope["path"] == "/_sandbox/secrets":
            await _send_json(send, 200, self.given(), {})
            return
        fault = self.mix.pick(self.chance.random())
        arrival = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope.get("query_string", b"").decode("latin-1"),
            "at": time.monotonic(),
            "fault": fault,
        }
        self.arrivals.append(arrival)
        xero = scope["path"].startswith("/api.xro/")
        if self.latency_ms and not xero:
            await asyncio.sleep(self.latency_ms / 1000)
        if await self.injected(fault, send):
            return
        if not xero:
            if scope["path"].startswith("/v1/") and await self.over_wisenet_limit(scope, send):
                arrival["limited"] = "second"
                return
            await self.answer(scope, receive, send, arrival)
            return
        await self.within_limits(scope, receive, send, arrival)

    async def over_wisenet_limit(self, scope: Any, send: Any) -> bool:
        """Wisenet's limit of calls a second per API key: past it, a 429 (Wisenet says
        nothing of when to come back: no Retry-After)."""
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        caller = headers.get("x-api-key") or headers.get("authorization", "")
        second = int(time.monotonic())
        start, count = self.seconds.get(caller, (second, 0))
        count = count + 1 if start == second else 1
        self.seconds[caller] = (second, count)
        if count <= self.limits.wisenet_per_second:
            return False
        await _send_json(send, 429, {"Message": "API calls quota exceeded"}, {})
        return True

    async def injected(self, fault: str | None, send: Any) -> bool:
        """Answer with the fault picked for this request; False when it gets a real answer
        (none, slow, or a body to spoil)."""
        if fault == "slow":
            await asyncio.sleep(self.mix.slow_ms / 1000)
        if fault == "fail":
            await _send_json(send, 503, {"Message": "injected failure"}, {})
            return True
        if fault == "throttle":
            retry = str(self.chance.randrange(2))
            body = {"Title": "Too Many Requests", "Status": 429, "Detail": "injected"}
            await _send_json(
                send, 429, body, {"Retry-After": retry, "X-Rate-Limit-Problem": "minute"}
            )
            return True
        if fault == "drop":
            # promise a body, then hang up: the client sees the connection dropped mid-answer
            promised = [(b"content-type", b"application/json"), (b"content-length", b"100")]
            await send({"type": "http.response.start", "status": 200, "headers": promised})
            await send({"type": "http.response.body", "body": b'{"Data": ', "more_body": True})
            raise Dropped("connection dropped by the sandbox, as asked")
        return False

    async def within_limits(
        self, scope: Any, receive: Any, send: Any, arrival: dict[str, Any]
    ) -> None:
        """A Xero call: counted against its organisation's minute, day and calls at once, or
        answered 429 with the limit it met, as Xero does."""
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        window = self.windows.setdefault(headers.get("xero-tenant-id", ""), _Window(self.limits))
        limits = self.limits
        now = time.monotonic()
        if now - window.minute_start >= 60:
            window.minute_start, window.minute_count = now, 0
        problem = None
        if window.day_count >= limits.per_day:
            problem, retry_after = "day", 86400
        elif window.minute_count >= limits.per_minute:
            problem, retry_after = "minute", max(1, int(60 - (now - window.minute_start)) + 1)
        elif window.in_flight >= limits.concurrent:
            problem, retry_after = "concurrent", 1
        if problem is not None:
            arrival["limited"] = problem
            await _send_json(
                send,
                429,
                {"Title": "Too Many Requests", "Status": 429, "Detail": f"{problem} limit"},
                {"Retry-After": str(retry_after), "X-Rate-Limit-Problem": problem},
            )
            return
        window.minute_count += 1
        window.day_count += 1
        window.in_flight += 1
        left = str(max(0, limits.per_day - window.day_count)).encode()

        async def counted(message: Any) -> None:  # Xero says how many calls are left today
            if message["type"] == "http.response.start":
                kept = [
                    (k, v) for k, v in message["headers"] if k.lower() != b"x-daylimit-remaining"
                ]
                message = {**message, "headers": [*kept, (b"x-daylimit-remaining", left)]}
            await send(message)

        try:  # a slow answer holds its place among the calls in flight
            if self.latency_ms:
                await asyncio.sleep(self.latency_ms / 1000)
            await self.answer(scope, receive, counted, arrival)
        finally:
            window.in_flight -= 1

    async def answer(self, scope: Any, receive: Any, send: Any, arrival: dict[str, Any]) -> None:
        try:
            if arrival["fault"] == "garble":
                await self.spoiled(scope, receive, send, arrival)
            else:
                await self.app(scope, receive, send)
        except ClientDisconnect:  # the client gave up waiting (a slow answer): nobody to tell
            arrival["gone"] = True

    async def spoiled(self, scope: Any, receive: Any, send: Any, arrival: dict[str, Any]) -> None:
        """The real answer, its body spoiled when it is a 2xx JSON body."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        body = b"".join(chunks)
        if 200 <= start["status"] < 300 and body.strip():
            body, arrival["fault"] = garbled(body, self.chance.randrange(3))
        else:
            arrival["fault"] = None  # nothing to spoil: the answer goes out as it was
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body})


class TakingTurns:
    """The served sandbox beside diagnose commands working on the same sandbox in their own
    processes, as two clients of a real service are: each request reads the sandbox as the last
    write left it (`reading`, before a GET), and each write takes its turn with theirs and
    starts from what they wrote (`writing`, around any other call to the services' APIs; a
    sign-in writes nothing of the tenant and waits for no one)."""

    APIS = ("/v1/", "/api.xro/")

    def __init__(
        self,
        app: Any,
        reading: Callable[[], object],
        writing: Callable[[], AbstractAsyncContextManager[None]],
    ) -> None:
        self.app = app
        self.reading = reading
        self.writing = writing

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["method"] in ("GET", "HEAD"):
            self.reading()
            await self.app(scope, receive, send)
        elif not scope["path"].lower().startswith(self.APIS):  # a sign-in
            await self.app(scope, receive, send)
        else:
            async with AsyncExitStack() as turn:
                try:
                    await turn.enter_async_context(self.writing())
                except UsageError as exc:  # another process kept the sandbox all along
                    await _send_json(send, 503, {"Message": str(exc)}, {})
                    return
                await self.app(scope, receive, send)


async def _send_json(send: Any, status: int, body: Any, headers: dict[str, str]) -> None:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


class Dropped(ConnectionAbortedError):
    """A connection the sandbox hangs up on purpose."""


def _not_dropped(record: logging.LogRecord) -> bool:
    """uvicorn logs an app's exception with its traceback: not for a drop we asked for."""
    return not (record.exc_info and isinstance(record.exc_info[1], Dropped))


def serve(app: Any, port: int) -> None:
    import uvicorn

    logging.getLogger("uvicorn.error").addFilter(_not_dropped)
    uvicorn.run(app, host=LOOPBACK, port=port, log_level="warning", lifespan="off")
