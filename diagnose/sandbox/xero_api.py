"""The sandbox's Xero: /connections, Contacts (read, and the Contact Code), Invoices."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from diagnose.msdate import to_ms_date
from diagnose.sandbox import xero_rules
from diagnose.sandbox.identity import Identity
from diagnose.sandbox.integration import ARCHIVED
from diagnose.sandbox.responses import SANDBOX_TOKEN, json_response
from diagnose.sandbox.tenant import Record, Tenant

WRITABLE = frozenset(
    {
        "ContactNumber",
        "AccountNumber",
        "ContactStatus",
        "Name",
        "FirstName",
        "LastName",
        "EmailAddress",
        "Addresses",
        "Phones",
        "TaxNumber",
        "Website",
        "CompanyNumber",
    }
)  # every other field of a Contacts element is read-only, or beyond the sandbox: ignored
WRITE_CONTACTS = "accounting.contacts"
READ_CONTACTS = (WRITE_CONTACTS, "accounting.contacts.read")
READ_INVOICES = tuple(
    f"accounting.{area}{read}" for area in ("transactions", "invoices") for read in ("", ".read")
)


class Xero:
    def __init__(
        self, tenant: Tenant, wrote: Callable[[str], None], identity: Identity | None = None
    ) -> None:
        self.tenant = tenant
        self.wrote = wrote
        self.identity = identity
        self.replies: dict[str, tuple[int, Any]] = {}  # Idempotency-Key → the answer given
        self.calls_today = 0
        self.minute: tuple[int, int] = (0, 0)  # (minute number, calls in it)
        self._by_id: dict[str, Record] = {}
        self._indexed: tuple[int, int] = (0, -1)

    @property
    def contacts(self) -> dict[str, Record]:
        """Contacts by ContactID, rebuilt only when a contact was added (writes add; updates
        change records in place) or the tenant's contacts were read again (another process
        wrote them)."""
        now = (id(self.tenant.contacts), len(self.tenant.contacts))
        if self._indexed != now:
            self._by_id = {c["ContactID"]: c for c in self.tenant.contacts}
            self._indexed = now
        return self._by_id

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

    def bearer(self, request: Request) -> str:
        given = request.headers.get("authorization", "")
        token = given.removeprefix("Bearer ") if given.startswith("Bearer ") else ""
        if token != SANDBOX_TOKEN and not (self.identity and self.identity.accepts(token)):
            raise xero_rules.problem(401, "Unauthorized", "AuthenticationUnsuccessful")
        return token

    def authorise(self, request: Request, *scopes: str) -> str:
        """A live token for a connected organisation, granted one of `scopes` (any of them
        will do: a write scope covers reading); Xero answers 403 otherwise. The organisation's
        tenantId: the one the call names, or a custom connection's own when it names none."""
        token = self.bearer(request)
        tenant_id = request.headers.get("xero-tenant-id", "")
        if not tenant_id and self.identity is not None and self.identity.bound(token):
            tenant_id = next((str(c.get("tenantId")) for c in self.tenant.connections), "")
        if not any(c.get("tenantId") == tenant_id for c in self.tenant.connections):
            raise xero_rules.problem(403, "Forbidden", "AuthenticationUnsuccessful")
        if not scopes or token == SANDBOX_TOKEN or self.identity is None:
            return tenant_id
        if not any(self.identity.allows(token, scope) for scope in scopes):
            raise xero_rules.problem(403, "Forbidden", "AuthenticationUnsuccessful")
        return tenant_id

    def envelope(
        self,
        collection: str,
        rows: list[Any],
        page: int | None,
        total: int,
        size: int = xero_rules.XERO_PAGE,
    ) -> Any:
        body: dict[str, Any] = {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": "diagnose sandbox",
            "DateTimeUTC": to_ms_date(datetime.now(UTC)),
        }
        if page is not None:
            body["pagination"] = {
                "page": page,
                "pageSize": size,
                "pageCount": max(1, -(-total // size)),
                "itemCount": total,
            }
        body[collection] = rows
        return body

    def respond(
        self,
        collection: str,
        rows: list[Any],
        page: int | None,
        total: int,
        size: int = xero_rules.XERO_PAGE,
    ) -> Response:
        body = self.envelope(collection, rows, page, total, size)
        return json_response(body, headers=self.headers())

    # -- /connections ----------------------------------------------------------------------------

    def connections(self, request: Request) -> Response:
        self.bearer(request)
        return json_response(self.tenant.connections, headers={"X-AppMinLimit-Remaining": "9999"})

    # -- /Contacts ---------------------------------------------------------------------------------

    def contact(self, request: Request) -> Response:
        self.authorise(request, *READ_CONTACTS)
        key = request.path_params["key"]
        if xero_rules.GUID.fullmatch(key):
            found = self.contacts.get(key.lower()) or self.contacts.get(key)
        else:
            found = next((c for c in self.tenant.contacts if c.get("ContactNumber") == key), None)
        if found is None:
            raise xero_rules.xero_not_found()
        return self.respond("Contacts", [found], None, 1)

    def contact_list(self, request: Request) -> Response:
        self.authorise(request, *READ_CONTACTS)
        query = request.query_params
        rows = xero_rules.modified_since(request, self.tenant.contacts)
        if query.get("includeArchived", "").lower() != "true":
            rows = [c for c in rows if c.get("ContactStatus") != "ARCHIVED"]
        ids = xero_rules.ids(query.get("IDs"))
        if ids is not None:
            rows = [c for c in rows if str(c.get("ContactID", "")).lower() in ids]
        term = query.get("searchTerm")
        if term:
            folded = term.casefold()
            fields = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")
            rows = [
                c for c in rows if any(folded in str(c.get(f) or "").casefold() for f in fields)
            ]
        rows = xero_rules.query(rows, query.get("where"), query.get("order"))
        page = xero_rules.page(query.get("page"))
        if page is None:  # without paging Xero leaves MergedToContactID out
            rows = [{k: v for k, v in c.items() if k != "MergedToContactID"} for c in rows]
            return self.respond("Contacts", rows, None, len(rows))
        size = xero_rules.page_size(query.get("pageSize"))
        start = (page - 1) * size
        return self.respond("Contacts", rows[start : start + size], page, len(rows), size)

    async def update_contact(self, request: Request) -> Response:
        """`POST /Contacts/{ContactID}`: here, the Contact Code. An `Idempotency-Key` seen before
        gets the first answer again, and nothing is written twice."""
        self.authorise(request, WRITE_CONTACTS)
        key = request.headers.get("idempotency-key")
        if key and key in self.replies:
            status, body = self.replies[key]
            return json_response(body, status, headers=self.headers())
        contact = self.contacts.get(request.path_params["key"])
        if contact is None:
            raise xero_rules.xero_not_found()
        try:
            body = json.loads(await request.body())
            changes = body["Contacts"][0]
        except (
            json.JSONDecodeError,
            UnicodeDecodeError,
            KeyError,
            IndexError,
            TypeError,
            RecursionError,
        ):
            raise xero_rules.validation("The request body is not a Contacts envelope") from None
        status, answer = self.apply_contact(contact, changes)
        if key:
            self.replies[key] = (status, answer)
        return json_response(answer, status, headers=self.headers())

    def apply_contact(self, contact: Record, changes: Any) -> tuple[int, Any]:
        """Apply the writable fields of a Contacts element; read-only ones (HasAttachments,
        HasValidationErrors, UpdatedDateUTC, …) are ignored, as Xero ignores them."""
        if not isinstance(changes, dict):
            return 400, xero_rules.error_body(contact, "A contact must be an object")
        wanted = {
            k: v for k, v in changes.items() if k in WRITABLE and v is not None
        }  # null: unset
        problems = xero_rules.contact_problems(wanted)
        if problems:
            return 400, xero_rules.error_body(contact, problems[0])
        restoring = wanted.get("ContactStatus") == "ACTIVE"
        if contact.get("ContactStatus") == "ARCHIVED" and not restoring:
            return 400, xero_rules.error_body(contact, ARCHIVED)
        code = str(wanted.get("ContactNumber", contact.get("ContactNumber")) or "")
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
            return 400, xero_rules.error_body(contact, message)
        changed = {k: v for k, v in wanted.items() if contact.get(k) != v}
        contact.update(changed)
        contact["UpdatedDateUTC"] = to_ms_date(datetime.now(UTC))
        if set(changed) <= {"ContactNumber"}:
            what = f"ContactNumber={code}"
        else:
            what = ", ".join(f"{k} changed" for k in sorted(changed))
        self.wrote(f"POST /api.xro/2.0/Contacts/{contact.get('ContactID')} {what}")
        return 200, self.envelope("Contacts", [contact], None, 1)

    # -- /Organisation ---------------------------------------------------------------------------

    def organisation(self, request: Request) -> Response:
        """`GET /Organisation`: the connected organisation (a tenant file may give its details
        under `xero.organisation`)."""
        tenant_id = self.authorise(request)
        connection = next(c for c in self.tenant.connections if c.get("tenantId") == tenant_id)
        name = str(connection.get("tenantName") or self.tenant.name)
        record = {
            "OrganisationID": tenant_id,
            "Name": name,
            "LegalName": name,
            "ShortCode": "!" + tenant_id.replace("-", "")[:5],
            "CountryCode": "AU",
            "BaseCurrency": "AUD",
            "Timezone": "AUSEASTERNSTANDARDTIME",
            "OrganisationType": "COMPANY",
            "OrganisationStatus": "ACTIVE",
            "IsDemoCompany": False,
            **(self.tenant.organisation_details or {}),
        }
        return self.respond("Organisations", [record], None, 1)

    # -- /Invoices ---------------------------------------------------------------------------------

    def summary(self, invoice: Record, full: bool) -> Record:
        contact_id = invoice["Contact"]["ContactID"]
        contact = self.contacts.get(contact_id, {})
        shown = dict(invoice)
        if full:  # whole, but for where it was merged to (Xero gives that only of a contact
            # read by ContactID or Contact Code, or paged)
            shown["Contact"] = {
                k: v for k, v in (contact or invoice["Contact"]).items() if k != "MergedToContactID"
            }
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
        self.authorise(request, *READ_INVOICES)
        key = request.path_params["key"]
        found = [
            i
            for i in self.tenant.invoices
            if str(i["InvoiceID"]).lower() == key.lower() or i.get("InvoiceNumber") == key
        ]
        if not found:
            raise xero_rules.xero_not_found()
        return self.respond("Invoices", [self.summary(found[0], full=True)], None, 1)

    def invoice_list(self, request: Request) -> Response:
        self.authorise(request, *READ_INVOICES)
        query = request.query_params
        rows = xero_rules.modified_since(request, self.tenant.invoices)
        ids = xero_rules.ids(query.get("IDs"))
        if ids is not None:
            rows = [i for i in rows if str(i["InvoiceID"]).lower() in ids]
        numbers = query.get("InvoiceNumbers")
        if numbers is not None:
            wanted = set(numbers.split(","))
            rows = [i for i in rows if i.get("InvoiceNumber") in wanted]
        contact_ids = xero_rules.ids(query.get("ContactIDs"))
        if contact_ids is not None:
            rows = [i for i in rows if str(i["Contact"]["ContactID"]).lower() in contact_ids]
        term = query.get("searchTerm")
        if term:  # invoice numbers and references, ignoring case
            folded = term.casefold()
            rows = [
                i
                for i in rows
                if any(
                    folded in str(i.get(f) or "").casefold() for f in ("InvoiceNumber", "Reference")
                )
            ]
        statuses = query.get("Statuses")
        if statuses is not None:
            rows = [i for i in rows if i.get("Status") in set(statuses.split(","))]

        def as_seen(invoice: Record) -> Record:  # a filter reads the contact as it is now
            return {**invoice, "Contact": self.contacts.get(invoice["Contact"]["ContactID"], {})}

        rows = xero_rules.query(rows, query.get("where"), query.get("order"), as_seen)
        page = xero_rules.page(query.get("page"))
        if page is None:
            shown = [
                {k: v for k, v in self.summary(i, full=False).items() if k != "LineItems"}
                for i in rows
            ]
            return self.respond("Invoices", shown, None, len(rows))
        size = xero_rules.page_size(query.get("pageSize"))
        start = (page - 1) * size
        chunk = [self.summary(i, full=False) for i in rows[start : start + size]]
        return self.respond("Invoices", chunk, page, len(rows), size)
