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
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from diagnose.msdate import to_ms_date
from diagnose.sandbox.faults import faults_from_env, with_faults
from diagnose.sandbox.integration import ARCHIVED, sync_learner
from diagnose.sandbox.tenant import Record, Tenant

SANDBOX_API_KEY = "sandbox-wisenet-key"
SANDBOX_TOKEN = "sandbox-xero-token"  # noqa: S105
XERO_PAGE = 100
WISENET_MAX_TAKE = 1000
NOT_FOUND = "The resource you're looking for cannot be found"
GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
WHERE_CONTACT_NUMBER = re.compile(r'\s*Contact\.ContactNumber\s*==\s*"([^"\\]*)"\s*')


class _Bad(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    # Xero escapes "/" in its JSON ("\/Date(…)\/"); every "/" in JSON text sits inside a string.
    text = json.dumps(body).replace("/", "\\/")
    return Response(text, status, headers=dict(headers or {}), media_type="application/json")


# ---------------------------------------------------------------------------------------------
# Wisenet


def _wisenet_error(status: int, message: str) -> _Bad:
    return _Bad(_json({"Message": message}, status))


def _wisenet_auth(request: Request) -> None:
    key = request.headers.get("x-api-key")
    bearer = request.headers.get("authorization", "")
    if key != SANDBOX_API_KEY and bearer != f"Bearer {SANDBOX_TOKEN}":
        raise _wisenet_error(401, "Authorization has been denied for this request.")


def _int_param(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"-?\d{1,10}", raw):
        raise _wisenet_error(400, f"The value '{raw}' is not valid for {name}.")
    return int(raw)


def _paged(request: Request, rows: list[Any]) -> list[Any]:
    skip = _int_param(request, "skip", 0) or 0
    take = _int_param(request, "take", WISENET_MAX_TAKE) or 0
    if skip < 0 or not 1 <= take <= WISENET_MAX_TAKE:
        raise _wisenet_error(400, f"take must be between 1 and {WISENET_MAX_TAKE}; skip >= 0.")
    return rows[skip : skip + take]


class _Wisenet:
    def __init__(self, tenant: Tenant, wrote: Callable[[], None]) -> None:
        self.tenant = tenant
        self.wrote = wrote
        self.states = {s["StateId"]: s for s in tenant.states}
        self.countries = {c["CountryId"]: c for c in tenant.countries}

    def item(self, learner: Record) -> Record:
        """A learner as `/learnersAU` returns it: `{Data, Relationships}`."""
        if "Data" in learner:
            return learner
        personal = learner.get("Personal") or {}
        blocks = [
            personal.get(k) or {} for k in ("StreetAddress", "PostalAddress", "PermanentAddress")
        ]
        state_ids = {b.get("StateId") for b in blocks if isinstance(b, dict)}
        country_ids = {b.get("CountryId") for b in blocks if isinstance(b, dict)}
        return {
            "Data": learner,
            "Relationships": {
                "States": [self.states[i] for i in sorted(state_ids, key=str) if i in self.states],
                "Countries": [
                    self.countries[i] for i in sorted(country_ids, key=str) if i in self.countries
                ],
            },
        }

    @staticmethod
    def data(learner: Record) -> Record:
        return learner.get("Data", learner)  # type: ignore[no-any-return]

    def learner(self, request: Request) -> Response:
        _wisenet_auth(request)
        learner_id = request.path_params["learner_id"]
        for learner in self.tenant.learners:
            if self.data(learner).get("LearnerId") == learner_id:
                return _json(self.item(learner))
        raise _wisenet_error(404, f"Learner with LearnerId {learner_id} was not found.")

    def learners(self, request: Request) -> Response:
        _wisenet_auth(request)
        rows = self.tenant.learners
        number = request.query_params.get("learnerNumberFilter")
        if number:
            rows = [
                r
                for r in rows
                if str((self.data(r).get("Personal") or {}).get("LearnerNumber", "")).casefold()
                == number.casefold()
            ]
        search = request.query_params.get("search")
        if search:
            words = search.casefold().split()
            rows = [r for r in rows if all(w in _name(self.data(r)) for w in words)]
        sync = request.query_params.get("syncToXeroFilter")
        if sync in ("true", "false"):
            rows = [
                r
                for r in rows
                if bool((self.data(r).get("Personal") or {}).get("SyncToXero")) == (sync == "true")
            ]
        return _json([self.item(r) for r in _paged(request, rows)])

    async def patch_learner(self, request: Request) -> Response:
        """`PATCH /learnersAU/{id}` with `[{"op": "replace", "path": "Personal/SyncToXero",
        "value": true}]`; ticking "Sync to Xero" plays the integration for the learner."""
        _wisenet_auth(request)
        learner_id = request.path_params["learner_id"]
        learner = next(
            (x for x in self.tenant.learners if self.data(x).get("LearnerId") == learner_id), None
        )
        if learner is None:
            raise _wisenet_error(404, f"Learner with LearnerId {learner_id} was not found.")
        try:
            ops = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _wisenet_error(400, "The request body is not valid JSON.") from None
        if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
            raise _wisenet_error(400, "The request body must be a list of patch operations.")
        data = self.data(learner)
        ticked = False
        for op in ops:
            path = str(op.get("path", "")).strip("/").split("/")
            if op.get("op") != "replace" or len(path) != 2 or path[0] != "Personal":
                raise _wisenet_error(400, f"Unsupported patch operation {op!r}.")
            personal = data.setdefault("Personal", {})
            if path[1] == "SyncToXero":
                if not isinstance(op.get("value"), bool):
                    raise _wisenet_error(400, "SyncToXero must be true or false.")
                ticked = ticked or (op["value"] and not personal.get("SyncToXero"))
            personal[path[1]] = op.get("value")
        if ticked:
            sync_learner(self.tenant, data)
        self.wrote()
        return _json(self.item(learner))

    def invoices(self, request: Request) -> Response:
        _wisenet_auth(request)
        rows = self.tenant.wisenet_invoices
        learner_id = _int_param(request, "learnerIdFilter")
        if learner_id is not None:
            rows = [r for r in rows if r.get("LearnerId") == learner_id]
        return _json([{"Data": r, "Relationships": {}} for r in _paged(request, rows)])

    def combo(self, records: Callable[[], list[Record]]) -> Callable[[Request], Response]:
        def endpoint(request: Request) -> Response:
            _wisenet_auth(request)
            return _json([{"Data": r, "Relationships": {}} for r in records()])

        return endpoint


def _name(data: Record) -> str:
    personal = data.get("Personal") or {}
    return f"{personal.get('FirstName') or ''} {personal.get('LastName') or ''}".casefold()


# ---------------------------------------------------------------------------------------------
# Xero


def _problem(status: int, title: str, detail: str) -> _Bad:
    body: dict[str, Any] = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return _Bad(_json(body, status))


def _validation(message: str, error_type: str = "ValidationException", number: int = 10) -> _Bad:
    return _Bad(_json({"ErrorNumber": number, "Type": error_type, "Message": message}, 400))


def _error_body(contact: Record, message: str) -> dict[str, Any]:
    element = {**contact, "HasValidationErrors": True, "ValidationErrors": [{"Message": message}]}
    return {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [element],
    }


def _xero_not_found() -> _Bad:
    return _Bad(PlainTextResponse(NOT_FOUND, 404))


class _Xero:
    def __init__(self, tenant: Tenant, wrote: Callable[[], None]) -> None:
        self.tenant = tenant
        self.wrote = wrote
        self.replies: dict[str, tuple[int, Any]] = {}  # Idempotency-Key → the answer given
        self.calls_today = 0
        self.minute: tuple[int, int] = (0, 0)  # (minute number, calls in it)

    @property
    def contacts(self) -> dict[str, Record]:
        return {c["ContactID"]: c for c in self.tenant.contacts}

    def headers(self) -> dict[str, str]:
        self.calls_today += 1
        now_minute = int(time.time() // 60)
        count = self.minute[1] + 1 if self.minute[0] == now_minute else 1
        self.minute = (now_minute, count)
        return {
            "Xero-Correlation-Id": str(uuid.uuid4()),
            "X-DayLimit-Remaining": str(max(0, 5000 - self.calls_today)),
            "X-MinLimit-Remaining": str(max(0, 60 - count)),
            "X-AppMinLimit-Remaining": "9999",
        }

    def bearer(self, request: Request) -> None:
        if request.headers.get("authorization", "") != f"Bearer {SANDBOX_TOKEN}":
            raise _problem(401, "Unauthorized", "AuthenticationUnsuccessful")

    def authorise(self, request: Request) -> None:
        self.bearer(request)
        tenant_id = request.headers.get("xero-tenant-id", "")
        if not any(c.get("tenantId") == tenant_id for c in self.tenant.connections):
            raise _problem(403, "Forbidden", "AuthenticationUnsuccessful")

    def envelope(self, collection: str, rows: list[Any], page: int | None, total: int) -> Any:
        body: dict[str, Any] = {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": "diagnose sandbox",
            "DateTimeUTC": to_ms_date(datetime.now(UTC)),
        }
        if page is not None:
            body["pagination"] = {
                "page": page,
                "pageSize": XERO_PAGE,
                "pageCount": max(1, -(-total // XERO_PAGE)),
                "itemCount": total,
            }
        body[collection] = rows
        return body

    def respond(self, collection: str, rows: list[Any], page: int | None, total: int) -> Response:
        return _json(self.envelope(collection, rows, page, total), headers=self.headers())

    # -- /connections ----------------------------------------------------------------------------

    def connections(self, request: Request) -> Response:
        self.bearer(request)
        return _json(self.tenant.connections, headers={"X-AppMinLimit-Remaining": "9999"})

    # -- /Contacts ---------------------------------------------------------------------------------

    def contact(self, request: Request) -> Response:
        self.authorise(request)
        key = request.path_params["key"]
        if GUID.fullmatch(key):
            found = self.contacts.get(key.lower()) or self.contacts.get(key)
        else:
            found = next((c for c in self.tenant.contacts if c.get("ContactNumber") == key), None)
        if found is None:
            raise _xero_not_found()
        return self.respond("Contacts", [found], None, 1)

    def contact_list(self, request: Request) -> Response:
        self.authorise(request)
        query = request.query_params
        rows = list(self.tenant.contacts)
        if query.get("includeArchived", "").lower() != "true":
            rows = [c for c in rows if c.get("ContactStatus") != "ARCHIVED"]
        ids = _ids(query.get("IDs"))
        if ids is not None:
            rows = [c for c in rows if str(c.get("ContactID", "")).lower() in ids]
        term = query.get("searchTerm")
        if term:
            folded = term.casefold()
            fields = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")
            rows = [
                c for c in rows if any(folded in str(c.get(f) or "").casefold() for f in fields)
            ]
        if query.get("where"):
            raise _validation("Syntax error", "QueryParseException", 16)
        page = _page(query.get("page"))
        if page is None:  # without paging Xero leaves MergedToContactID out
            rows = [{k: v for k, v in c.items() if k != "MergedToContactID"} for c in rows]
            return self.respond("Contacts", rows, None, len(rows))
        start = (page - 1) * XERO_PAGE
        return self.respond("Contacts", rows[start : start + XERO_PAGE], page, len(rows))

    async def update_contact(self, request: Request) -> Response:
        """`POST /Contacts/{ContactID}`: here, the Contact Code. An `Idempotency-Key` seen before
        gets the first answer again, and nothing is written twice."""
        self.authorise(request)
        key = request.headers.get("idempotency-key")
        if key and key in self.replies:
            status, body = self.replies[key]
            return _json(body, status, headers=self.headers())
        contact = self.contacts.get(request.path_params["key"])
        if contact is None:
            raise _xero_not_found()
        try:
            body = json.loads(await request.body())
            changes = body["Contacts"][0]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, IndexError, TypeError):
            raise _validation("The request body is not a Contacts envelope") from None
        status, answer = self.apply_contact(contact, changes)
        if key:
            self.replies[key] = (status, answer)
        return _json(answer, status, headers=self.headers())

    def apply_contact(self, contact: Record, changes: Any) -> tuple[int, Any]:
        unknown = (
            set(changes) - {"ContactID", "ContactNumber"} if isinstance(changes, dict) else {""}
        )
        if unknown:
            return 400, _error_body(contact, "Only ContactNumber can be changed in the sandbox")
        code = str(changes.get("ContactNumber", ""))
        if contact.get("ContactStatus") == "ARCHIVED":
            return 400, _error_body(contact, ARCHIVED)
        holder = next(
            (
                c
                for c in self.tenant.contacts
                if c.get("ContactNumber") == code and c is not contact
            ),
            None,
        )
        if code and holder is not None:
            message = (
                f"The contact number {code} is already assigned to another contact. "
                "The contact number must be unique across all contacts"
            )
            return 400, _error_body(contact, message)
        contact["ContactNumber"] = code
        contact["UpdatedDateUTC"] = to_ms_date(datetime.now(UTC))
        self.wrote()
        return 200, self.envelope("Contacts", [contact], None, 1)

    # -- /Invoices ---------------------------------------------------------------------------------

    def summary(self, invoice: Record, full: bool) -> Record:
        contact_id = invoice["Contact"]["ContactID"]
        contact = self.contacts.get(contact_id, {})
        shown = dict(invoice)
        if full:
            shown["Contact"] = contact or invoice["Contact"]
        else:
            shown["Contact"] = {
                "ContactID": contact_id,
                "Name": contact.get("Name", invoice["Contact"].get("Name", "")),
                "Addresses": [],
                "Phones": [],
                "ContactGroups": [],
                "ContactPersons": [],
                "HasValidationErrors": False,
            }
        return shown

    def invoice(self, request: Request) -> Response:
        self.authorise(request)
        key = request.path_params["key"]
        found = [
            i
            for i in self.tenant.invoices
            if str(i["InvoiceID"]).lower() == key.lower() or i.get("InvoiceNumber") == key
        ]
        if not found:
            raise _xero_not_found()
        return self.respond("Invoices", [self.summary(found[0], full=True)], None, 1)

    def invoice_list(self, request: Request) -> Response:
        self.authorise(request)
        query = request.query_params
        rows = list(self.tenant.invoices)
        ids = _ids(query.get("IDs"))
        if ids is not None:
            rows = [i for i in rows if str(i["InvoiceID"]).lower() in ids]
        numbers = query.get("InvoiceNumbers")
        if numbers is not None:
            wanted = set(numbers.split(","))
            rows = [i for i in rows if i.get("InvoiceNumber") in wanted]
        contact_ids = _ids(query.get("ContactIDs"))
        if contact_ids is not None:
            rows = [i for i in rows if str(i["Contact"]["ContactID"]).lower() in contact_ids]
        statuses = query.get("Statuses")
        if statuses is not None:
            rows = [i for i in rows if i.get("Status") in set(statuses.split(","))]
        where = query.get("where")
        if where:
            match = WHERE_CONTACT_NUMBER.fullmatch(where)
            if match is None:
                raise _validation("Syntax error", "QueryParseException", 16)
            code = match.group(1)
            rows = [
                i
                for i in rows
                if self.contacts.get(i["Contact"]["ContactID"], {}).get("ContactNumber") == code
            ]
        page = _page(query.get("page"))
        if page is None:
            shown = [
                {k: v for k, v in self.summary(i, full=False).items() if k != "LineItems"}
                for i in rows
            ]
            return self.respond("Invoices", shown, None, len(rows))
        start = (page - 1) * XERO_PAGE
        chunk = [self.summary(i, full=False) for i in rows[start : start + XERO_PAGE]]
        return self.respond("Invoices", chunk, page, len(rows))


def _ids(raw: str | None) -> set[str] | None:
    if raw is None:
        return None
    ids = {part.strip().lower() for part in raw.split(",") if part.strip()}
    bad = [i for i in ids if not GUID.fullmatch(i)]
    if bad:
        raise _validation(f"'{bad[0]}' is not a valid Guid")
    return ids


def _page(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not re.fullmatch(r"\d{1,6}", raw) or int(raw) < 1:
        raise _validation("page must be a positive whole number")
    return int(raw)


Endpoint = Callable[[Request], Response | Awaitable[Response]]


def _guarded(endpoint: Endpoint) -> Callable[[Request], Any]:
    async def handle(request: Request) -> Response:
        try:
            answer = endpoint(request)
            return await answer if inspect.isawaitable(answer) else answer
        except _Bad as bad:
            return bad.response

    return handle


def create_app(tenant: Tenant, *, on_write: Callable[[], None] | None = None) -> Any:
    """The sandbox as an ASGI app; `on_write` runs after every write (to persist the tenant).
    Faults named in `$DIAGNOSE_SANDBOX_FAULTS` are injected in front of it (see `faults`)."""
    wrote = on_write or (lambda: None)
    wisenet = _Wisenet(tenant, wrote)
    xero = _Xero(tenant, wrote)

    def routes(
        table: Iterable[tuple[str, Endpoint]], methods: tuple[str, ...] = ("GET",)
    ) -> list[Route]:
        return [Route(p, _guarded(endpoint), methods=list(methods)) for p, endpoint in table]

    app = Starlette(
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
            Mount(
                "/api.xro/2.0",
                routes=routes([("/Contacts/{key}", xero.update_contact)], ("POST",))
                + routes(
                    [
                        ("/Contacts/{key}", xero.contact),
                        ("/Contacts", xero.contact_list),
                        ("/Invoices/{key}", xero.invoice),
                        ("/Invoices", xero.invoice_list),
                    ]
                ),
            ),
        ]
    )
    return with_faults(app, faults_from_env())
