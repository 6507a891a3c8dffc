"""`diagnose sandbox serve`: the sandbox on a real loopback socket, behaving like the services
under load — Xero's per-organisation limits (calls a minute, calls at once, calls a day) with
its headers and 429s, added latency, and rates of injected 5xx answers and dropped connections.

Only loopback addresses are served: this is a test double, never a public server.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from diagnose.errors import UsageError

LOOPBACK = "127.0.0.1"


@dataclass
class Limits:
    per_minute: int = 60
    concurrent: int = 5
    per_day: int = 5000


def parse_rate_limit(text: str) -> int:
    """`xero=60/min` → 60."""
    match = re.fullmatch(r"\s*xero\s*=\s*(\d+)\s*/\s*min\s*", text)
    if match is None or int(match.group(1)) < 1:
        raise UsageError(f"--rate-limit {text!r}: say for example xero=60/min")
    return int(match.group(1))


@dataclass
class _Window:
    limits: Limits
    minute_start: float = field(default_factory=time.monotonic)
    minute_count: int = 0
    day_count: int = 0
    in_flight: int = 0


def with_behaviour(
    app: Any,
    *,
    limits: Limits,
    latency_ms: int = 0,
    fail_rate: float = 0.0,
    drop_rate: float = 0.0,
    seed: int | None = None,
) -> Any:
    """Xero's limits by the server's own clock, latency and injected failures, around `app`."""
    chance = random.Random(seed)  # noqa: S311 — a test double's dice
    windows: dict[str, _Window] = {}
    arrivals: list[dict[str, Any]] = []  # every request, by the server's own clock

    async def send_json(send: Any, status: int, body: Any, headers: dict[str, str]) -> None:
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        raw.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})

    async def served(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        if scope["path"] == "/_sandbox/requests":  # the test double's own log, for tests
            await send_json(send, 200, arrivals, {})
            return
        arrivals.append({"method": scope["method"], "path": scope["path"], "at": time.monotonic()})
        xero = scope["path"].startswith("/api.xro/")
        if latency_ms and not xero:
            await asyncio.sleep(latency_ms / 1000)
        if fail_rate and chance.random() < fail_rate:
            await send_json(send, 503, {"Message": "injected failure"}, {})
            return
        if drop_rate and chance.random() < drop_rate:
            # promise a body, then hang up: the client sees the connection dropped mid-answer
            promised = [(b"content-type", b"application/json"), (b"content-length", b"100")]
            await send({"type": "http.response.start", "status": 200, "headers": promised})
            await send({"type": "http.response.body", "body": b'{"Data": ', "more_body": True})
            raise ConnectionAbortedError("connection dropped by the sandbox, as asked")
        if not xero:
            await app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        window = windows.setdefault(headers.get("xero-tenant-id", ""), _Window(limits))
        now = time.monotonic()
        if now - window.minute_start >= 60:
            window.minute_start, window.minute_count = now, 0
        problem = None
        if window.day_count >= limits.per_day:
            problem, retry = "day", 86400
        elif window.minute_count >= limits.per_minute:
            problem, retry = "minute", max(1, int(60 - (now - window.minute_start)) + 1)
        elif window.in_flight >= limits.concurrent:
            problem, retry = "concurrent", 1
        if problem is not None:
            await send_json(
                send,
                429,
                {"Title": "Too Many Requests", "Status": 429, "Detail": f"{problem} limit"},
                {"Retry-After": str(retry), "X-Rate-Limit-Problem": problem},
            )
            return
        window.minute_count += 1
        window.day_count += 1
        window.in_flight += 1
        try:  # a slow answer holds its place among the calls in flight
            if latency_ms:
                await asyncio.sleep(latency_ms / 1000)
            await app(scope, receive, send)
        finally:
            window.in_flight -= 1

    return served


def serve(app: Any, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=LOOPBACK, port=port, log_level="warning", lifespan="off")
