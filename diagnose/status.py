"""`diagnose status`: can this profile reach both services, and with how much headroom?

For each service: connected or not, the organisation, the token's lifetime and scopes (never the
token), the rate-limit headroom Xero last reported — and, for a problem, the line that fixes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnose.config import Profile
from diagnose.errors import SourceError
from diagnose.model import ProblemKind, Service

if TYPE_CHECKING:
    from diagnose.sources.both import Sources
    from diagnose.sources.wisenet import WisenetClient


@dataclass(frozen=True)
class Line:
    ok: bool
    service: str
    text: str
    fix: str = ""


WISENET_KEY_FIX = (
    "give the key again: diagnose connect wisenet --profile {name}, or $DIAGNOSE_WISENET_API_KEY "
    "(Wisenet LRM › Settings › API key)"
)
WISENET_OAUTH_FIX = "sign in again: diagnose connect wisenet --profile {name}"
XERO_CUSTOM_FIX = (
    "check xero_client_id and DIAGNOSE_XERO_CLIENT_SECRET (Xero developer portal › your custom "
    "connection)"
)
XERO_PKCE_FIX = "sign in again: diagnose connect xero --profile {name}"
ADDRESS_FIX = "correct the address in the profile ('diagnose config show' says where it is)"


def _fix(exc: SourceError, credentials: str) -> str:
    kind = exc.problem.kind
    if kind is ProblemKind.WRONG_ADDRESS:
        return ADDRESS_FIX
    if kind is ProblemKind.AUTH:
        return credentials
    if kind is ProblemKind.UNREACHABLE:  # nothing answered: not a busy service
        return "check this machine's network (and the address above), then try again"
    return "try again in a minute"


async def live_status(profile: Profile) -> list[Line]:
    from diagnose.sources.live import live_sources, live_wisenet

    xero_fix = (XERO_PKCE_FIX if profile.xero_auth == "pkce" else XERO_CUSTOM_FIX).format(
        name=profile.name
    )
    try:
        async with live_sources(profile) as sources:
            return [
                await _wisenet_line(sources.wisenet, profile),
                await _xero_line(sources, xero_fix),
            ]
    except SourceError as exc:  # a sign-in failed before either service was asked
        if exc.problem.service is not Service.XERO:
            return [Line(False, "Wisenet", exc.problem.message, _fix(exc, _wisenet_fix(profile)))]
        xero = Line(False, "Xero", exc.problem.message, _fix(exc, xero_fix))
    try:  # Xero's sign-in failed: Wisenet is asked on its own all the same
        async with live_wisenet(profile) as wisenet:
            return [await _wisenet_line(wisenet, profile), xero]
    except SourceError as exc:
        return [Line(False, "Wisenet", exc.problem.message, _fix(exc, _wisenet_fix(profile))), xero]


def _wisenet_fix(profile: Profile) -> str:
    oauth = profile.wisenet_auth == "oauth"
    return (WISENET_OAUTH_FIX if oauth else WISENET_KEY_FIX).format(name=profile.name)


async def _wisenet_line(wisenet: WisenetClient, profile: Profile) -> Line:
    oauth = profile.wisenet_auth == "oauth"
    try:  # a known endpoint: a wrong address cannot pass for an empty tenant
        await wisenet.find_learners(search="", take=1)
    except SourceError as exc:
        return Line(False, "Wisenet", exc.problem.message, _fix(exc, _wisenet_fix(profile)))
    accepted = "the sign-in is accepted" if oauth else "the API key is accepted"
    return Line(True, "Wisenet", f"answers at {profile.wisenet_url}; {accepted}")


async def _xero_line(sources: Sources, fix: str) -> Line:
    from diagnose import parse

    token = sources.token
    try:
        from diagnose.gather import unconnected

        connections = await sources.xero.connections()
        if (wrong := unconnected(connections, sources)) is not None:
            return Line(False, "Xero", wrong.problem.message)  # it says what to correct
        names = [parse.text(c, "tenantName") for c in connections if isinstance(c, dict)]
        if not names:
            return Line(False, "Xero", "no organisation is connected to this app", fix)
        if not sources.xero.tenant_id:
            sources.xero.tenant_id = parse.text(connections[0], "tenantId")
        await sources.xero.contacts(page=1)
    except SourceError as exc:
        return Line(False, "Xero", exc.problem.message, _fix(exc, fix))
    call = sources.log.calls[-1]
    headroom = (
        f"{call.day_remaining} calls left today, {call.minute_remaining} this minute"
        if call.day_remaining is not None
        else "no headroom reported"
    )
    lifetime = f"token valid {token.expires_in // 60} min" if token else "token valid"
    scopes = f"scopes {token.scope}" if token and token.scope else "scopes not reported"
    return Line(True, "Xero", f"organisation {names[0]} · {lifetime} · {scopes} · {headroom}")


def sandbox_status(organisation: str, changed: bool) -> list[Line]:
    state = "with your writes (diagnose sandbox reset undoes them)" if changed else "as shipped"
    return [Line(True, "sandbox", f"serves {organisation} in-process, {state}")]
