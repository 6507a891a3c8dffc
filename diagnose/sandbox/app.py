"""The sandbox server: an ASGI app that answers like Wisenet v1 and Xero's Accounting and
Identity APIs, for the calls `diagnose` makes, from a tenant file.

    /v1/learnersAU, /v1/learnersAU/{id}, /v1/invoices, /v1/combos/{states,countries}   Wisenet
    /connections                                                                      Xero Identity
    /api.xro/2.0/Contacts[/{ContactID|ContactNumber}], /api.xro/2.0/Invoices[/{id}]    Xero

Real paths, parameters, auth headers (`x-api-key` or a bearer token; `xero-tenant-id`), JSON
shapes with MS-JSON dates and escaped slashes, paging, rate-limit headers and error bodies.
The CLI calls it in-process; `diagnose sandbox serve` will put the same app on loopback.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route

from diagnose.sandbox.faults import Fault, with_faults
from diagnose.sandbox.identity import Identity
from diagnose.sandbox.responses import SANDBOX_API_KEY, SANDBOX_TOKEN, Refused, json_response
from diagnose.sandbox.tenant import Tenant
from diagnose.sandbox.wisenet_api import Wisenet
from diagnose.sandbox.xero_api import Xero

__all__ = ["SANDBOX_API_KEY", "SANDBOX_TOKEN", "create_app"]


Endpoint = Callable[[Request], Response | Awaitable[Response]]


def _guarded(endpoint: Endpoint) -> Callable[[Request], Any]:
    async def handle(request: Request) -> Response:
        try:
            answer = endpoint(request)
            return await answer if inspect.isawaitable(answer) else answer
        except Refused as bad:
            return bad.response

    return handle


NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html><head><title>404 - Not Found</title></head>"
    "<body><h1>404 - Not Found</h1></body></html>"
)


async def unknown_route(request: Request, exc: Exception) -> Response:
    """A route neither service has — not a missing record. Wisenet's Web API says so in its
    own words; anything else is the web server's page, as a wrong host or path would get."""
    if request.url.path == "/v1" or request.url.path.startswith("/v1/"):
        message = f"No HTTP resource was found that matches the request URI '{request.url}'."
        return json_response({"Message": message}, 404)
    return HTMLResponse(NOT_FOUND_PAGE, 404)


def create_app(
    tenant: Tenant,
    *,
    on_write: Callable[[str], None] | None = None,
    identity: Identity | None = None,
    wisenet_identity: Identity | None = None,
    faults: Sequence[Fault] = (),
) -> Any:
    """The sandbox as an ASGI app; `on_write(what)` runs after every write (to persist it).
    `faults` are injected in front of it (see `faults`): only when given."""
    wrote = on_write or (lambda what: None)
    identity = identity or Identity()
    wisenet_identity = wisenet_identity or Identity(checks_scopes=False)
    wisenet = Wisenet(tenant, wrote, wisenet_identity)
    xero = Xero(tenant, wrote, identity)

    def routes(
        table: Iterable[tuple[str, Endpoint]], methods: tuple[str, ...] = ("GET",)
    ) -> list[Route]:
        return [Route(p, _guarded(endpoint), methods=list(methods)) for p, endpoint in table]

    app = Starlette(
        exception_handlers={404: unknown_route, 405: unknown_route},
        routes=[
            Mount(
                "/v1",
                routes=[
                    *routes([("/learnersAU/{learner_id:int}", wisenet.patch_learner)], ("PATCH",)),
                    *routes([("/learnersAU/{learner_id:int}", wisenet.learner)]),
                    *routes(
                        [
                            ("/learnersAU", wisenet.learners),
                            ("/invoices", wisenet.invoices),
                            ("/combos/states", wisenet.combo(lambda: tenant.states)),
                            ("/combos/countries", wisenet.combo(lambda: tenant.countries)),
                        ]
                    ),
                ],
            ),
            *routes([("/connections", xero.connections)]),
            *routes([("/connect/token", identity.token)], ("POST",)),
            *routes([("/connect/revocation", identity.revoke)], ("POST",)),
            *routes([("/identity/connect/authorize", identity.authorize)]),
            *routes([("/api/oauth/authorize", wisenet_identity.authorize)]),
            *routes([("/api/oauth/token", wisenet_identity.token)], ("POST",)),
            Mount(
                "/api.xro/2.0",
                routes=routes([("/Contacts/{key}", xero.update_contact)], ("POST",))
                + routes(
                    [
                        ("/Contacts/{key}", xero.contact),
                        ("/Contacts", xero.contact_list),
                        ("/Invoices/{key}", xero.invoice),
                        ("/Invoices", xero.invoice_list),
                        ("/Organisation", xero.organisation),
                    ]
                ),
            ),
        ],
    )
    return with_faults(any_case(app), faults)


# Xero's paths are case-insensitive (its SDK asks for /Connections): each known word of a path,
# in any case, is given the case the routes use. Wisenet's paths are left as they come.
XERO_WORDS = {
    word.casefold(): word
    for word in ("connections", "api.xro", "Contacts", "Invoices", "Organisation", "connect")
}


def any_case(app: Any) -> Any:
    async def routed(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path and not path.startswith("/v1"):
            words = [XERO_WORDS.get(w.casefold(), w) for w in path.split("/")]
            scope = {**scope, "path": "/".join(words)}
        await app(scope, receive, send)

    return routed
