"""What Xero's API accepts and how it refuses, as the sandbox answers it: the query parameters
and headers of its list endpoints (`where`, `order`, `IDs`, `page`, `pageSize`,
`If-Modified-Since`), the validation of a contact's writable fields, and Xero's error bodies."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse

from diagnose.msdate import parse_datetime
from diagnose.sandbox import xero_query
from diagnose.sandbox.responses import Refused, json_response
from diagnose.sandbox.tenant import Record

XERO_PAGE = 100
NOT_FOUND = "The resource you're looking for cannot be found"
GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def problem(status: int, title: str, detail: str) -> Refused:
    body: dict[str, Any] = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return Refused(json_response(body, status))


def validation(message: str, error_type: str = "ValidationException", number: int = 10) -> Refused:
    return Refused(
        json_response({"ErrorNumber": number, "Type": error_type, "Message": message}, 400)
    )


def error_body(contact: Record, message: str) -> dict[str, Any]:
    element = {**contact, "HasValidationErrors": True, "ValidationErrors": [{"Message": message}]}
    return {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [element],
    }


def xero_not_found() -> Refused:
    return Refused(PlainTextResponse(NOT_FOUND, 404))


def query(
    rows: list[Record],
    where: str | None,
    order: str | None,
    view: Callable[[Record], Record] = lambda record: record,
) -> list[Record]:
    """`where` and `order`, read on each record's `view`, or Xero's QueryParseException."""
    try:
        if where:
            test = xero_query.where(where)
            rows = [r for r in rows if test(view(r))]
        if order:
            rows = xero_query.order(rows, order, view)
    except xero_query.QueryError:
        raise validation("Syntax error", "QueryParseException", 16) from None
    return rows


def ids(raw: str | None) -> set[str] | None:
    if raw is None:
        return None
    ids = {part.strip().lower() for part in raw.split(",") if part.strip()}
    bad = [i for i in ids if not GUID.fullmatch(i)]
    if bad:
        raise validation(f"'{bad[0]}' is not a valid Guid")
    return ids


def modified_since(request: Request, records: list[Record]) -> list[Record]:
    """`If-Modified-Since`: only records whose UpdatedDateUTC is later (to the second)."""
    header = request.headers.get("if-modified-since")
    if not header:
        return list(records)
    documented = re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", header.strip())
    since = parse_datetime(header.strip() + "Z") if documented else None
    if since is None:  # as a strict server: only the documented UTC yyyy-mm-ddThh:mm:ss
        raise validation(f"The If-Modified-Since header '{header}' is not a valid date")
    return [
        r
        for r in records
        if (updated := parse_datetime(r.get("UpdatedDateUTC"))) is None or updated > since
    ]


def page_size(raw: str | None) -> int:
    """`pageSize`: 100 unless asked, at most 1000 (as Xero serves the paged endpoints)."""
    if raw is None:
        return XERO_PAGE
    if not re.fullmatch(r"\d{1,4}", raw) or not 1 <= int(raw) <= 1000:
        raise validation("pageSize must be a whole number from 1 to 1000")
    return int(raw)


def page(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not re.fullmatch(r"\d{1,6}", raw) or int(raw) < 1:
        raise validation("page must be a positive whole number")
    return int(raw)


def contact_problems(wanted: Record) -> list[str]:
    """Xero's validation of the writable fields, in its words."""
    problems = []
    number = wanted.get("ContactNumber")
    if number is not None and len(str(number)) > 50:
        problems.append("The Contact Number must not be more than 50 characters long.")
    email = wanted.get("EmailAddress")
    if email and not EMAIL.fullmatch(str(email)):
        problems.append("Email address must be valid.")
    if "Name" in wanted and not str(wanted.get("Name") or "").strip():
        problems.append("The contact name must be specified.")
    if "Name" in wanted and len(str(wanted["Name"])) > 255:
        problems.append("The contact name must not be more than 255 characters long.")
    status = wanted.get("ContactStatus")
    if status is not None and status not in ("ACTIVE", "ARCHIVED"):
        problems.append(f"ContactStatus '{status}' is not valid.")
    return problems
