"""Xero Accounting and Identity APIs: the calls a diagnosis needs.

User text never goes into a `where` expression: Xero has no escape for `"` inside one. Lookups
use the by-number path, the `IDs`/`InvoiceNumbers`/`ContactIDs` lists and `searchTerm`. The one
`where` we send holds a Contact Code that has first matched `CONTACT_CODE`, which admits no
quote, backslash or operator character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from diagnose.refs import GUID
from diagnose.sources.calls import Request, a_list, envelope
from diagnose.sources.http import Session
from diagnose.textsafe import one_line

ACCOUNTING = "/api.xro/2.0"
CONTACT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,49}")
ID_BATCH = 50  # longer ID lists make Xero answer a false 404
MAX_PAGES = 50
SEARCH_MAX = 200  # a longer search term is cut: what it finds still holds every exact match


def is_safe_code(code: str) -> bool:
    return CONTACT_CODE.fullmatch(code) is not None


INVOICE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


def is_safe_number(number: str) -> bool:
    """An invoice number that can go in a path as it is (`GET /Invoices/{InvoiceNumber}`)."""
    return INVOICE_NUMBER.fullmatch(number) is not None and not GUID.fullmatch(number)


def search_text(term: str) -> str:
    """A `searchTerm` as sent: one line, cut to what a URL can carry."""
    return one_line(term)[:SEARCH_MAX]


SEARCHED = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")  # by searchTerm


class XeroClient:
    def __init__(
        self,
        session: Session,
        *,
        tenant_id: str | None = None,
        bound: bool = False,
        named_by: str = "",
    ) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.bound = bound  # a custom connection: bound to one organisation, named or not
        self.named_by = named_by  # "profile" (xero_tenant_id), "sign-in", "" (the sandbox)

    def _headers(self) -> dict[str, str]:
        return {"xero-tenant-id": self.tenant_id} if self.tenant_id else {}

    async def _get(
        self, path: str, collection: str, params: dict[str, str | int] | None = None
    ) -> Any:
        """A body holding `collection` (`{"Invoices": [...]}`), or None for a 404."""
        return await self.session.get(
            ACCOUNTING + path, params=params, headers=self._headers(), shape=envelope(collection)
        )

    async def connections(self) -> list[Any]:
        """`GET /connections`: the organisations our token may use (no tenant header)."""
        body = await self.session.get("/connections", shape=a_list)
        return body if isinstance(body, list) else []

    def contact_by_number_request(self, code: str) -> Request:
        if not is_safe_code(code):
            raise ValueError(f"{code!r} is not a Contact Code that can be looked up by path")
        return Request("GET", f"{ACCOUNTING}/Contacts/{quote(code, safe='')}")

    async def contact_by_number(self, code: str) -> Any:
        """`GET /Contacts/{ContactNumber}`; archived contacts included; None when there is none."""
        path = self.contact_by_number_request(code).path.removeprefix(ACCOUNTING)
        return await self._get(path, "Contacts")

    def contacts_by_ids_request(self, ids: Sequence[str]) -> Request:
        """What `contacts_by_ids` asks first, as a plan shows it."""
        return Request("GET", f"{ACCOUNTING}/Contacts?IDs={','.join(ids)}")

    async def contacts(
        self, *, search_term: str | None = None, ids: Sequence[str] = (), page: int = 1
    ) -> Any:
        """`GET /Contacts` with archived contacts included, one page (paged, so that
        `MergedToContactID` is returned)."""
        params: dict[str, str | int] = {"includeArchived": "true", "page": page}
        if search_term is not None:
            params["searchTerm"] = search_text(search_term)
        if ids:
            params["IDs"] = ",".join(ids)
        return await self._get("/Contacts", "Contacts", params)

    async def contacts_by_ids(self, ids: Iterable[str]) -> dict[str, list[Any]]:
        """Full contacts for a set of ContactIDs, batched; as one `{"Contacts": [...]}`."""
        wanted = sorted({i for i in ids if GUID.fullmatch(i)})
        found: list[Any] = []
        for start in range(0, len(wanted), ID_BATCH):
            body = await self.contacts(ids=wanted[start : start + ID_BATCH])
            found.extend(_collection(body, "Contacts"))
        return {"Contacts": found}

    async def invoices(
        self,
        *,
        numbers: Sequence[str] = (),
        ids: Sequence[str] = (),
        contact_ids: Sequence[str] = (),
        contact_code: str | None = None,
        search_term: str | None = None,
    ) -> dict[str, list[Any]]:
        """`GET /Invoices`, every page, as one `{"Invoices": [...]}` (with line items).
        `search_term`: Xero's case-insensitive search of numbers and references."""
        params: dict[str, str | int] = {}
        if search_term is not None:
            params["searchTerm"] = search_text(search_term)
        for name, values in (
            ("InvoiceNumbers", numbers),
            ("IDs", ids),
            ("ContactIDs", contact_ids),
        ):
            if values:
                if any("," in v for v in values):
                    raise ValueError(f"{name} values cannot contain a comma")
                params[name] = ",".join(values)
        if contact_code is not None:
            if not is_safe_code(contact_code):
                raise ValueError(f"{contact_code!r} is not a Contact Code safe to filter on")
            params["where"] = f'Contact.ContactNumber=="{contact_code}"'
        found: list[Any] = []
        for page in range(1, MAX_PAGES + 1):
            body = await self._get("/Invoices", "Invoices", {**params, "page": page})
            rows = _collection(body, "Invoices")
            found.extend(rows)
            pagination = body.get("pagination") if isinstance(body, dict) else None
            page_count = pagination.get("pageCount") if isinstance(pagination, dict) else None
            if not rows or (isinstance(page_count, int) and page >= page_count):
                break
        return {"Invoices": found}

    async def set_contact_code(self, contact_id: str, code: str, idempotency_key: str) -> Any:
        """`POST /Contacts/{ContactID}` setting the Contact Code; a retry with the same key is
        answered from Xero's memory of the first, never applied twice."""
        return await self.session.sent(self.contact_code_request(contact_id, code, idempotency_key))

    def contact_code_request(self, contact_id: str, code: str, idempotency_key: str) -> Request:
        """`POST /Contacts/{ContactID}` setting `ContactNumber`, under an `Idempotency-Key`."""
        if not GUID.fullmatch(contact_id) or not is_safe_code(code):
            raise ValueError("a ContactID and a plain Contact Code are needed")
        body = {"Contacts": [{"ContactID": contact_id, "ContactNumber": code}]}
        headers = {**self._headers(), "Idempotency-Key": idempotency_key}
        return Request("POST", f"{ACCOUNTING}/Contacts/{contact_id}", body, headers)

    async def invoice(self, invoice_id: str) -> Any:
        """`GET /Invoices/{InvoiceID}`: an envelope, or None when there is none."""
        if not GUID.fullmatch(invoice_id):
            raise ValueError(f"{invoice_id!r} is not an InvoiceID")
        return await self._get(f"/Invoices/{invoice_id}", "Invoices")

    async def invoice_by_number(self, number: str) -> Any:
        """`GET /Invoices/{InvoiceNumber}`: one invoice of that number with its whole contact
        (Contact Code included), as Xero's documentation allows; None when there is none."""
        if not is_safe_number(number):
            raise ValueError(f"{number!r} is not an invoice number that can go in a path")
        return await self._get(f"/Invoices/{number}", "Invoices")


def _collection(body: Any, name: str) -> list[Any]:
    if isinstance(body, dict) and isinstance(body.get(name), list):
        return list(body[name])
    return []
