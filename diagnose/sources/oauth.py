"""The token endpoints of Xero's identity server and Wisenet's authorisation server, through a
`Session`: a token asked for or revoked, and what an answer's token and lifetime are."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from diagnose.config import HttpOptions
from diagnose.errors import SourceError
from diagnose.model import Problem, ProblemKind, Service
from diagnose.sources.calls import CallLog
from diagnose.sources.http import Session


@dataclass(frozen=True)
class Token:
    """An access token: kept in memory only, and never printed (its repr hides the value)."""

    value: str = field(repr=False)
    expires_in: int
    scope: str


async def token_request(
    identity_url: str,
    form: Mapping[str, str],
    log: CallLog,
    *,
    basic_auth: tuple[str, str] | None = None,
    service: Service = Service.XERO,
    path: str = "/connect/token",
    options: HttpOptions | None = None,
) -> Mapping[str, Any]:
    """A token endpoint (Xero's `/connect/token` by default). A refusal (`invalid_grant`,
    `invalid_client`) is an AUTH problem; the form and the answer hold secrets and are never
    recorded. Only a client-credentials request is retried: a refresh token is single-use."""
    name = "Xero" if service is Service.XERO else "Wisenet"
    setting = "xero_identity_url" if service is Service.XERO else "wisenet_auth_url"
    async with Session(service, identity_url, log, options=options, setting=setting) as identity:
        try:
            answer = await identity.send(
                "POST",
                path,
                form=form,
                basic_auth=basic_auth,
                idempotent=form.get("grant_type") == "client_credentials",
                shape=_holds_token,
            )
        except SourceError as exc:
            if exc.problem.kind is ProblemKind.BAD_RESPONSE and "HTTP 400" in exc.problem.message:
                reason = (
                    exc.problem.message.rsplit(": ", 1)[-1] if ": " in exc.problem.message else ""
                )
                detail = f" ({reason})" if reason in ("invalid_grant", "invalid_client") else ""
                raise SourceError(
                    Problem(service, ProblemKind.AUTH, f"{name} refused our credentials{detail}")
                ) from None
            raise
    if not isinstance(answer, Mapping) or not isinstance(answer.get("access_token"), str):
        raise SourceError(
            Problem(service, ProblemKind.BAD_RESPONSE, f"{name}'s token answer had no token")
        )
    return answer


def _holds_token(body: Any) -> bool:
    return isinstance(body, Mapping) and isinstance(body.get("access_token"), str)


def as_token(answer: Mapping[str, Any]) -> Token:
    """The token of a token answer; its lifetime from `expires_in`, or from `expires_at` (an
    epoch second or an ISO date-time, as Wisenet's authorisation server gives it)."""
    expires = answer.get("expires_in")
    lifetime = expires if isinstance(expires, int) else 0
    at = answer.get("expires_at")
    if not lifetime and at is not None:
        from datetime import UTC, datetime

        from diagnose.msdate import parse_datetime

        when = (
            datetime.fromtimestamp(at, UTC)
            if isinstance(at, int | float)
            else parse_datetime(str(at))
        )
        if when is not None:
            lifetime = max(0, int((when - datetime.now(UTC)).total_seconds()))
    return Token(str(answer["access_token"]), lifetime, str(answer.get("scope", "")))


async def client_credentials_token(
    identity_url: str,
    client_id: str,
    client_secret: str,
    log: CallLog,
    options: HttpOptions | None = None,
) -> Token:
    """An access token for a Xero custom connection (`grant_type=client_credentials`)."""
    answer = await token_request(
        identity_url,
        {"grant_type": "client_credentials"},
        log,
        basic_auth=(client_id, client_secret),
        options=options,
    )
    return as_token(answer)


async def revoke_token(
    identity_url: str,
    token: str,
    client_id: str,
    log: CallLog,
    options: HttpOptions | None = None,
) -> None:
    """`POST /connect/revocation`: Xero forgets the sign-in (the refresh token's whole family)."""
    async with Session(
        Service.XERO, identity_url, log, options=options, setting="xero_identity_url"
    ) as identity:
        await identity.send(
            "POST", "/connect/revocation", form={"token": token, "client_id": client_id}
        )
