"""The domain model: plain frozen records for both systems, and for the results of a diagnosis.

Parsers that build these from real API payloads live in `diagnose.parse`; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime
from enum import StrEnum
from typing import Any

# ---------------------------------------------------------------------------------------------
# Wisenet


@dataclass(frozen=True, slots=True)
class State:
    state_id: int
    code: str
    short: str
    long: str


@dataclass(frozen=True, slots=True)
class Country:
    country_id: int
    code: str
    description: str


@dataclass(frozen=True, slots=True)
class Address:
    """A Wisenet address block (StreetAddress, PostalAddress or PermanentAddress)."""

    building: str = ""
    unit: str = ""
    street_number: str = ""
    street_name: str = ""
    suburb: str = ""
    state_id: int | None = None
    postcode: str = ""
    country_id: int | None = None

    @property
    def street_line(self) -> str:
        parts = [self.unit, self.building, f"{self.street_number} {self.street_name}".strip()]
        return ", ".join(p.strip() for p in parts if p and p.strip())

    @property
    def is_empty(self) -> bool:
        return not (self.street_line or self.suburb.strip() or self.postcode.strip()) and (
            self.state_id is None
        )


@dataclass(frozen=True, slots=True)
class Learner:
    learner_id: int
    learner_number: str  # RefInternal; becomes the Xero Contact Code
    first_name: str
    last_name: str
    email: str
    sync_to_xero: bool
    is_active: bool = True
    street: Address = field(default_factory=Address)
    postal: Address = field(default_factory=Address)
    mobile: str = ""
    states: Mapping[int, State] = field(default_factory=dict)  # from the item's Relationships
    countries: Mapping[int, Country] = field(default_factory=dict)
    updated: datetime | None = None  # LastModifiedTimeStamp

    @property
    def full_name(self) -> str:
        return f"{self.first_name.strip()} {self.last_name.strip()}".strip()

    @property
    def label(self) -> str:
        name = self.full_name or "(no name)"
        return f"learner {self.learner_id} · {name} · {self.learner_number or 'no RefInternal'}"


@dataclass(frozen=True, slots=True)
class WisenetInvoice:
    """A row of the learner's "Xero Invoices" tab, as Wisenet's /invoices endpoint returns it."""

    invoice_id: str
    learner_id: int | None
    number: str
    status: str
    total: float | None
    amount_due: float | None = None
    updated: datetime | None = None


@dataclass(frozen=True, slots=True)
class EventAlert:
    """One row of LRM › Reports › Event Alerts › Xero."""

    alert_type: str
    details: str
    related_record: str
    created_on: datetime | None
    acknowledged: bool


# ---------------------------------------------------------------------------------------------
# Xero


@dataclass(frozen=True, slots=True)
class XeroConnection:
    tenant_id: str
    tenant_name: str
    tenant_type: str


@dataclass(frozen=True, slots=True)
class XeroAddress:
    address_type: str
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""

    @property
    def is_empty(self) -> bool:
        return not any((self.line1, self.line2, self.city, self.region, self.postal_code))


@dataclass(frozen=True, slots=True)
class XeroPhone:
    phone_type: str
    number: str
    area_code: str = ""
    country_code: str = ""


@dataclass(frozen=True, slots=True)
class XeroContact:
    contact_id: str
    contact_number: str  # shown as "Contact Code" in Xero; "" when not set
    status: str  # ACTIVE | ARCHIVED | GDPRREQUEST (or anything newer Xero invents)
    name: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    addresses: tuple[XeroAddress, ...] = ()
    phones: tuple[XeroPhone, ...] = ()
    merged_to: str | None = None
    updated: datetime | None = None

    @property
    def street(self) -> XeroAddress | None:
        for address in self.addresses:
            if address.address_type == "STREET":
                return address
        return None


@dataclass(frozen=True, slots=True)
class LineItem:
    description: str
    quantity: float | None
    unit_amount: float | None
    line_amount: float | None
    account_code: str = ""
    item_code: str = ""


@dataclass(frozen=True, slots=True)
class XeroInvoice:
    invoice_id: str
    number: str
    type: str  # ACCREC, ACCPAY, ACCRECCREDIT, …
    status: str  # DRAFT, SUBMITTED, AUTHORISED, PAID, VOIDED, DELETED
    contact_id: str
    contact_name: str
    contact_number: str | None  # None: the payload did not say
    total: float | None
    amount_due: float | None = None
    amount_paid: float | None = None
    currency: str = ""
    reference: str = ""
    date: Date | None = None
    due_date: Date | None = None
    updated: datetime | None = None
    line_items: tuple[LineItem, ...] = ()


# ---------------------------------------------------------------------------------------------
# Gathering: what was asked, what answered


class Service(StrEnum):
    WISENET = "wisenet"
    XERO = "xero"


class ProblemKind(StrEnum):
    UNREACHABLE = "unreachable"  # connection refused, DNS, TLS, dropped connection
    AUTH = "auth"  # 401/403: credentials refused, tenant not connected
    RATE_LIMITED = "rate-limited"  # 429
    TIMEOUT = "timeout"
    BAD_RESPONSE = "bad-response"  # 5xx, or a body we could not read
    NOT_FETCHED = "not-fetched"  # an earlier answer needed for this call was missing
    WRONG_ADDRESS = "wrong-address"  # not the service answered: a setting names the wrong place


@dataclass(frozen=True, slots=True)
class Problem:
    service: Service
    kind: ProblemKind
    message: str


@dataclass(frozen=True, slots=True)
class ApiCall:
    service: Service
    method: str
    path: str  # path and query as sent, without host
    status: int | None  # None: no response
    ms: float
    round: int
    correlation_id: str | None = None
    day_remaining: int | None = None  # Xero's X-DayLimit-Remaining after this call
    minute_remaining: int | None = None  # Xero's X-MinLimit-Remaining
    at: datetime | None = None  # when it was sent (UTC)


class SubjectKind(StrEnum):
    LEARNER = "learner"
    INVOICE = "invoice"


@dataclass(frozen=True, slots=True)
class Subject:
    kind: SubjectKind
    ref: str  # what the user typed

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}"


# ---------------------------------------------------------------------------------------------
# Results


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 — a status, not a password
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    @property
    def glyph(self) -> str:
        return _GLYPHS[self]

    @property
    def severity(self) -> int:
        """How bad it is, to list the worst first: a failure, then a check that could not be
        decided, then a warning; passed and skipped checks are nothing to look at (0)."""
        return _SEVERITY[self]

    @property
    def noteworthy(self) -> bool:
        """A failure, a warning or an undecided check: what the pages and the scan list."""
        return _SEVERITY[self] > 0


_GLYPHS = {
    Status.PASS: "✓",
    Status.WARN: "!",
    Status.FAIL: "✗",
    Status.SKIP: "–",
    Status.ERROR: "☠",
}
_SEVERITY = {Status.FAIL: 3, Status.ERROR: 2, Status.WARN: 1, Status.SKIP: 0, Status.PASS: 0}


def verdict_of(statuses: Iterable[Status]) -> Status:
    """The verdict over some findings: ERROR (incomplete) when any could not be decided, since
    nothing then rules out a failure; else the most severe of them; PASS when none is bad."""
    seen = set(statuses)
    if Status.ERROR in seen:
        return Status.ERROR
    worst = max(seen, key=lambda s: s.severity, default=Status.PASS)
    return worst if worst.noteworthy else Status.PASS


# The verdict in one sentence, the same on every page; each page adds where the fixes are.
VERDICTS = {
    Status.PASS: "Nothing blocks the sync.",
    Status.WARN: "Nothing blocks the sync, but there are warnings.",
    Status.FAIL: "The sync is blocked.",
    Status.ERROR: "Incomplete: some checks could not be decided.",
}


class TargetKind(StrEnum):
    TENANT = "tenant"
    LEARNER = "learner"
    INVOICE = "invoice"


@dataclass(frozen=True, slots=True)
class Target:
    """What a finding is about: the connection, the learner, or one invoice."""

    kind: TargetKind
    key: str  # LearnerId, or the Xero InvoiceID
    label: str


@dataclass(frozen=True, slots=True)
class Finding:
    check_id: str
    status: Status
    title: str
    message: str
    target: Target
    fix: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[str, ...] = ()
    cause: ProblemKind | None = None  # for `error`: why it could not be decided
    explanation: str = ""  # what the check looks at and why it matters


@dataclass(frozen=True, slots=True)
class Diagnosis:
    subject: Subject
    headline: str  # e.g. "learner 123 · Jane Citizen · STD0000123"
    mode: str  # "sandbox" or "live"
    tenant: str  # the Xero organisation, or the sandbox tenant's name
    taken_at: datetime
    findings: tuple[Finding, ...]
    calls: tuple[ApiCall, ...]

    def count(self, status: Status) -> int:
        return sum(1 for f in self.findings if f.status is status)

    @property
    def status(self) -> Status:
        return verdict_of(f.status for f in self.findings)

    @property
    def rounds(self) -> int:
        return max((c.round for c in self.calls), default=0)
