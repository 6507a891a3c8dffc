"""The one module of ours that imports httpx.

Everything the rest of the code needs from HTTP goes through `Session`: a call that follows the
service's `Policy` (retries, pacing, concurrency), records every attempt in the `CallLog` with
the rate-limit headroom the service reported, returns decoded JSON (or None for a 404), and
turns every failure of the network, the service or its body into a `SourceError`.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from diagnose.config import HttpOptions
from diagnose.errors import SourceError, UsageError
from diagnose.model import ApiCall, Problem, ProblemKind, Service
from diagnose.sources import policy as policies
from diagnose.sources.calls import ROUND, CallLog, Request, Shape
from diagnose.sources.policy import Limiter, Policy
from diagnose.textsafe import duration

if TYPE_CHECKING:  # filelock, which the budget needs, costs start-up time: live profiles only
    from diagnose.sources.budget import SharedBudget


class Session:
    def __init__(
        self,
        service: Service,
        base_url: str,
        log: CallLog,
        *,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        options: HttpOptions | None = None,
        policy: Policy | None = None,
        budget: SharedBudget | None = None,
        setting: str = "",
    ) -> None:
        options = options or HttpOptions()
        self.service = service
        self.setting = setting  # the profile setting that names `base_url`, for a wrong address
        self.log = log
        self.policy = policy or replace(policies.POLICIES[service], max_wait=options.max_wait)
        self.limiter = Limiter(self.policy)
        self.budget = budget  # shared with other processes, per organisation or key
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Accept": "application/json", **(headers or {})},
            transport=transport,
            timeout=options.timeout,
            verify=trust(options.ca_bundle),
        )

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    async def get(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        shape: Shape | None = None,
    ) -> Any:
        """The decoded JSON body, or None when the service says the record does not exist.

        With `shape`, a body that fails it is a bad answer (retried like a garbled one), never
        read as "nothing there": that could pass or fail a check on an answer never given."""
        return await self.send("GET", path, params=params, headers=headers, shape=shape)

    async def sent(self, request: Request) -> Any:
        """Send a write as its client built it (`Request`)."""
        return await self.write(request.method, request.path, request.body, request.headers)

    async def write(
        self, method: str, path: str, body: Any, headers: Mapping[str, str] | None = None
    ) -> Any:
        """A PATCH, POST or PUT with a JSON body. Never retried here: a caller retries a write
        only when it is idempotent (an `Idempotency-Key`, or setting a value it then reads back)."""
        answer = await self.send(method, path, body=body, headers=headers)
        if answer is None:
            raise self._error(ProblemKind.BAD_RESPONSE, f"has no record at {path}")
        return answer

    def _budgeted(self, headers: Mapping[str, str] | None) -> AbstractAsyncContextManager[None]:
        if self.budget is not None and self.budget.key is not None:
            return self.budget.call()  # every call spends the same budget (Wisenet's key)
        organisation = next(
            (v for k, v in (headers or {}).items() if k.lower() == "xero-tenant-id"), None
        )
        if self.budget is None or not organisation:
            return nullcontext()
        return self.budget.call(organisation)

    @property
    def base_url(self) -> str:
        return str(self._client.base_url).rstrip("/")

    @property
    def base_path(self) -> str:
        """The path the service's base address carries (`/v1` for Wisenet's), for plans."""
        return str(self._client.base_url.path).rstrip("/")

    @property
    def last_call(self) -> ApiCall | None:
        return self.log.calls[-1] if self.log.calls else None

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        form: Mapping[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
        shape: Shape | None = None,
        idempotent: bool = False,
    ) -> Any:
        """One call, retried as the policy allows: reads, writes with an Idempotency-Key, and
        calls the caller knows are `idempotent` (asking for a client-credentials token)."""
        keyed = any(k.lower() == "idempotency-key" for k in (headers or {}))
        attempts = self.policy.attempts if method == "GET" or keyed or idempotent else 1
        waited = 0.0
        for attempt in range(attempts):
            try:
                async with self.limiter, self._budgeted(headers):
                    answer = await self._once(method, path, params, headers, body, form, basic_auth)
                    if shape is not None and answer is not None and not shape(answer):
                        raise _Retryable(
                            self._error(
                                ProblemKind.BAD_RESPONSE,
                                f"sent an answer of an unexpected shape for {path}",
                            ),
                            status=200,
                        )
                    return answer
            except _Retryable as failure:
                delay = self.policy.delay(
                    failure.error.problem.kind, failure.status, failure.retry_after, attempt
                )
                if (
                    delay is None
                    or attempt + 1 == attempts
                    or waited + delay > self.policy.total_wait
                ):
                    raise failure.error from None
            waited += delay
            await policies.pause(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        headers: Mapping[str, str] | None,
        body: Any,
        form: Mapping[str, str] | None = None,
        basic_auth: tuple[str, str] | None = None,
    ) -> Any:
        round_ = ROUND.get() or self.log.round
        if form is not None:
            request = self._client.build_request(
                method, path, params=params, headers=headers, data=dict(form)
            )
        else:
            request = self._client.build_request(
                method, path, params=params, headers=headers, json=body
            )
        if basic_auth is not None:
            request = next(httpx.BasicAuth(*basic_auth).auth_flow(request))
        shown = request.url.raw_path.decode("ascii", "replace")
        started = time.perf_counter()
        try:
            response = await self._client.send(request)
        except httpx.TimeoutException:
            self._record(method, shown, None, started, round_)
            raise _Retryable(self._error(ProblemKind.TIMEOUT, "did not answer in time")) from None
        except httpx.HTTPError as exc:
            self._record(method, shown, None, started, round_)
            reason = str(exc) or type(exc).__name__
            error = self._error(
                ProblemKind.UNREACHABLE,
                f"could not be reached ({reason}){self._check(unreachable=True)}",
            )
            raise _Retryable(error) from None
        self._record(method, shown, response.status_code, started, round_, response.headers)
        # The body is read: the response's stream points back at the response, a cycle that
        # would keep every page's bytes until the cycle collector runs (a scan's pages, 30 MB
        # at 10,000 learners). Without it the response is freed as soon as it is decoded.
        response.stream = httpx.ByteStream(b"")
        try:
            return self._decode(response)
        except SourceError as error:
            raise _Retryable(
                error, response.status_code, _seconds(response.headers.get("retry-after"))
            ) from None

    def _record(
        self,
        method: str,
        path: str,
        status: int | None,
        started: float,
        round_: int,
        headers: httpx.Headers | None = None,
    ) -> None:
        self.log.calls.append(
            ApiCall(
                service=self.service,
                method=method,
                path=path,
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
                round=round_,
                at=datetime.now(UTC) - timedelta(seconds=time.perf_counter() - started),
                correlation_id=headers.get("xero-correlation-id") if headers else None,
                day_remaining=_count(headers, "x-daylimit-remaining"),
                minute_remaining=_count(headers, "x-minlimit-remaining"),
            )
        )

    def _error(self, kind: ProblemKind, what: str) -> SourceError:
        name = "Wisenet" if self.service is Service.WISENET else "Xero"
        return SourceError(Problem(self.service, kind, f"{name} {what}"))

    def _check(self, *, unreachable: bool = False) -> str:
        """The setting to look at when the address itself may be wrong; when it is the
        service's usual address, what to look at instead."""
        if not self.setting:
            return ""
        usual = USUAL_ADDRESS.get(self.setting)
        if usual and self.base_url.rstrip("/").casefold() == usual.casefold():
            return NETWORK if unreachable else ""  # the setting is right: not worth checking
        hint = f" (usually {usual})" if usual else ""
        return f'; check {self.setting} = "{self.base_url}" in the profile{hint}'

    def _wrong_address(self, response: httpx.Response) -> Any:
        shown = response.request.url.copy_with(query=None)
        kind = response.headers.get("content-type", "").split(";")[0].strip()
        what = "a web page" if kind == "text/html" else (kind or "an empty body")
        flavour = (
            " (or wisenet_flavour: the learners endpoint differs by country)"
            if self.setting == "wisenet_url" and "/learners" in shown.path
            else ""
        )
        return self._raise(
            ProblemKind.WRONG_ADDRESS,
            f"is not what answered at {shown} (HTTP {response.status_code} with {what}, not "
            f"the API's own answer){self._check()}{flavour}",
        )

    def _decode(self, response: httpx.Response) -> Any:
        status = response.status_code
        if status == 404:
            if not _record_missing(self.service, response):
                return self._wrong_address(response)
            return None
        if 200 <= status < 300 and "text/html" in response.headers.get("content-type", ""):
            return self._wrong_address(response)  # a web page: not an API at all
        if status == 429:
            limit = response.headers.get("x-rate-limit-problem")
            retry = response.headers.get("retry-after")
            detail = f" ({limit} limit)" if limit else ""
            after = f"; retry after {_in_words(retry)}" if retry else ""
            return self._raise(ProblemKind.RATE_LIMITED, f"rate-limited us{detail}{after}")
        if status in (401, 403):
            return self._raise(
                ProblemKind.AUTH, f"refused our credentials (HTTP {status}{_reason(response)})"
            )
        if status >= 400:
            return self._raise(
                ProblemKind.BAD_RESPONSE, f"answered HTTP {status}{_reason(response)}"
            )
        if not response.content.strip():
            return {}  # an empty answer (a revocation, say) is an empty object
        try:
            return json.loads(response.content, parse_constant=_not_a_number)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self._raise(ProblemKind.BAD_RESPONSE, "sent a body that is not valid JSON")
        except RecursionError:
            return self._raise(ProblemKind.BAD_RESPONSE, "sent a body nested too deeply")

    def _raise(self, kind: ProblemKind, what: str) -> Any:
        raise self._error(kind, what)


def _in_words(seconds: str) -> str:
    """A `Retry-After` as a person reads it: seconds, or hours and minutes for a day limit's."""
    said = seconds.strip()
    return duration(int(said)) if said.isdigit() else said  # else an HTTP date, as sent


def _not_a_number(word: str) -> Any:
    """NaN and Infinity are not JSON: an answer holding them is a bad answer."""
    raise json.JSONDecodeError(f"{word} is not a JSON number", word, 0)


class _Retryable(Exception):
    """A failed attempt, with what the policy needs to decide on another."""

    def __init__(
        self, error: SourceError, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.error = error
        self.status = status
        self.retry_after = retry_after


USUAL_ADDRESS = {
    "wisenet_url": "https://api.wisenet.co/v1",
    "xero_url": "https://api.xero.com",
    "xero_identity_url": "https://identity.xero.com",
    "wisenet_auth_url": "https://auth.wisenet.co",
}
NETWORK = "; the profile has its usual address: check this machine's network (or HTTPS_PROXY)"
XERO_NOT_FOUND = "The resource you're looking for cannot be found"
NO_ROUTE = "No HTTP resource was found"  # ASP.NET Web API's answer for a route it does not have


def _record_missing(service: Service, response: httpx.Response) -> bool:
    """Whether a 404 is the service's own "no such record" answer, not a route or a host that
    is not the service: Xero says it in plain text; Wisenet answers a JSON `Message`."""
    if service is Service.XERO:
        return XERO_NOT_FOUND in response.text
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    message = body.get("Message") if isinstance(body, Mapping) else None
    return isinstance(message, str) and not message.startswith(NO_ROUTE)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP-date Retry-After: fall back to the backoff


def _count(headers: httpx.Headers | None, name: str) -> int | None:
    value = headers.get(name) if headers else None
    return int(value) if value is not None and value.isdigit() else None


def _reason(response: httpx.Response) -> str:
    """A short reason from an error body, in either service's shape."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip().splitlines()[0][:160] if response.text.strip() else ""
        return f": {text}" if text else ""
    if isinstance(body, Mapping):
        for element in body.get("Elements") or []:  # Xero's ValidationException says why here
            for error in (element or {}).get("ValidationErrors") or []:
                if isinstance(error, Mapping) and error.get("Message"):
                    return f": {str(error['Message'])[:200]}"
        for key in ("Detail", "Message", "message", "error_description", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return f": {body[key][:160]}"
    return ""


def trust(ca_bundle: str) -> ssl.SSLContext | bool:
    """Certificates are always verified: against the system's CAs, or those of `ca_bundle`."""
    if not ca_bundle:
        return True
    try:
        return ssl.create_default_context(cafile=ca_bundle)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(
            f"ca_bundle {ca_bundle!r} is not a readable PEM file of CAs: {exc}"
        ) from None


def asgi_transport(app: Any) -> httpx.AsyncBaseTransport:
    """A transport that hands requests to an in-process ASGI app (the sandbox): no socket."""
    return httpx.ASGITransport(app=app)
