"""Evidence: everything gathered for one diagnosis, as raw payloads plus the parsed view.

`RawEvidence` is what a snapshot holds: the API bodies exactly as decoded, what could not be
fetched and why, and the log of calls. `Evidence` parses it on demand. Because checks only ever
see `Evidence`, a saved snapshot replays to the same findings offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

from diagnose import __version__, parse
from diagnose.errors import SnapshotError
from diagnose.model import (
    ApiCall,
    EventAlert,
    Learner,
    Problem,
    ProblemKind,
    Service,
    Subject,
    SubjectKind,
    WisenetInvoice,
    XeroConnection,
    XeroContact,
    XeroInvoice,
)
from diagnose.paths import write_atomically
from diagnose.textsafe import json_text

SNAPSHOT_FORMAT = "diagnose-snapshot/1"
T = TypeVar("T")


class Key(StrEnum):
    """The pieces of evidence a diagnosis may hold (the keys of a snapshot's `payloads`)."""

    XERO_CONNECTIONS = "xero.connections"  # GET /connections: a list
    WISENET_LEARNER = "wisenet.learner"  # the learner item, or null: not found
    WISENET_MATCHES = "wisenet.learner-matches"  # a learner search: a list of items
    WISENET_INVOICES = "wisenet.invoices"  # the learner's Xero Invoices tab: a list of items
    XERO_CONTACT = "xero.contact"  # GET /Contacts/{ContactNumber}: an envelope, or null
    XERO_SEARCH_NAME = "xero.search-name"  # GET /Contacts?searchTerm=<name>
    XERO_SEARCH_EMAIL = "xero.search-email"  # GET /Contacts?searchTerm=<email>
    XERO_INVOICES = "xero.invoices"  # {"Invoices": [...]} over all pages
    XERO_INVOICE_CONTACTS = "xero.invoice-contacts"  # GET /Contacts?IDs=… of invoice contacts
    # GET /Invoices?ContactIDs=… of the learner's look-alike and merged-into contacts
    XERO_LOOKALIKE_INVOICES = "xero.lookalike-invoices"
    EVENT_ALERTS = "wisenet.event-alerts"  # Event Alerts rows, when known


_SERVICE_WIDE = (ProblemKind.UNREACHABLE, ProblemKind.AUTH)
_SERVICE = {key: Service(key.value.split(".", 1)[0]) for key in Key}


class Unavailable(Exception):
    """A piece of evidence a check needs could not be fetched."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class RawEvidence:
    subject: Subject
    mode: str
    tenant: str
    taken_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    payloads: dict[str, Any] = field(default_factory=dict)
    problems: dict[str, Problem] = field(default_factory=dict)
    calls: list[ApiCall] = field(default_factory=list)
    tool_version: str = __version__

    def to_json(self) -> dict[str, Any]:
        return {
            "format": SNAPSHOT_FORMAT,
            "tool_version": self.tool_version,
            "subject": {"kind": self.subject.kind.value, "ref": self.subject.ref},
            "mode": self.mode,
            "tenant": self.tenant,
            "taken_at": self.taken_at.isoformat(),
            "payloads": self.payloads,
            "problems": {
                key: {"service": p.service.value, "kind": p.kind.value, "message": p.message}
                for key, p in self.problems.items()
            },
            "calls": [call_json(c) for c in self.calls],
        }

    def save(self, path: Path) -> None:
        """Write the snapshot next to its final name first, so a crash never leaves half a file."""
        try:
            write_atomically(path, json_text(self.to_json(), indent=1) + "\n")
        except OSError as exc:
            raise SnapshotError(f"cannot write snapshot {path}: {exc.strerror or exc}") from exc

    @classmethod
    def load(cls, path: Path) -> RawEvidence:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SnapshotError(f"snapshot {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SnapshotError(f"cannot read snapshot {path}: {exc}") from None
        except json.JSONDecodeError as exc:
            raise SnapshotError(
                f"snapshot {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg})"
            ) from None
        except RecursionError:
            raise SnapshotError(f"snapshot {path} is nested too deeply") from None
        try:
            return cls.from_json(document)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SnapshotError(f"snapshot {path} is not a diagnose snapshot: {exc}") from None

    @classmethod
    def from_json(cls, document: Any) -> RawEvidence:
        if not isinstance(document, dict) or document.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"its format is not {SNAPSHOT_FORMAT!r}")
        payloads = document["payloads"]
        if not isinstance(payloads, dict) or not set(payloads) <= {k.value for k in Key}:
            raise ValueError("'payloads' names unknown evidence")
        taken_at = datetime.fromisoformat(document["taken_at"])
        subject = document["subject"]
        return cls(
            subject=Subject(SubjectKind(subject["kind"]), str(subject["ref"])),
            mode=str(document["mode"]),
            tenant=str(document["tenant"]),
            taken_at=taken_at if taken_at.tzinfo else taken_at.replace(tzinfo=UTC),
            payloads=payloads,
            problems={
                str(key): Problem(Service(p["service"]), ProblemKind(p["kind"]), str(p["message"]))
                for key, p in document["problems"].items()
            },
            calls=[
                ApiCall(
                    service=Service(c["service"]),
                    method=str(c["method"]),
                    path=str(c["path"]),
                    status=None if c["status"] is None else int(c["status"]),
                    ms=float(c["ms"]),
                    round=int(c["round"]),
                    correlation_id=c.get("correlation_id"),
                    day_remaining=c.get("day_remaining"),
                    minute_remaining=c.get("minute_remaining"),
                    at=_moment(c.get("at")),
                )
                for c in document["calls"]
            ],
            tool_version=str(document.get("tool_version", "")),
        )


def call_json(call: ApiCall) -> dict[str, Any]:
    return {
        "service": call.service.value,
        "method": call.method,
        "path": call.path,
        "status": call.status,
        "ms": call.ms,
        "round": call.round,
        "correlation_id": call.correlation_id,
        "day_remaining": call.day_remaining,
        "minute_remaining": call.minute_remaining,
        "at": call.at.isoformat() if call.at else None,
    }


def _moment(value: Any) -> datetime | None:
    """A call's time as saved (older snapshots have none)."""
    if not isinstance(value, str):
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Evidence:
    """The parsed, read-only view of `RawEvidence` that checks are given.

    `memo` lets many evidences share their parsing of the same records (a scan gives every
    learner and invoice its own evidence cut from one bulk fetch): each record is parsed once.
    """

    def __init__(self, raw: RawEvidence, memo: dict[tuple[str, int], Any] | None = None) -> None:
        self.raw = raw
        self._memo = memo if memo is not None else {}

    def _parse(self, parser: Callable[[Any], T], record: Any) -> T:
        return remembered(self._memo, parser, record)

    @property
    def subject(self) -> Subject:
        return self.raw.subject

    def has(self, key: Key) -> bool:
        return key in self.raw.payloads or key in self.raw.problems  # a Key is its own str

    def payload(self, key: Key) -> Any:
        """The raw payload; raises `Unavailable` when it was not (or could not be) fetched."""
        problem = self.raw.problems.get(key.value)
        if problem is not None:
            raise Unavailable(problem)
        if key.value not in self.raw.payloads:
            raise Unavailable(
                Problem(_SERVICE[key], ProblemKind.NOT_FETCHED, f"{key.value} was not fetched")
            )
        return self.raw.payloads[key.value]

    def service_problem(self, service: Service) -> Problem | None:
        """The first problem that says the service itself is unusable: unreachable, or our
        credentials refused. (A rate limit or a bad answer to one call concerns that call only.)"""
        for problem in self.raw.problems.values():
            if problem.service is service and problem.kind in _SERVICE_WIDE:
                return problem
        return None

    def service_answered(self, service: Service) -> bool:
        return any(
            c.service is service and c.status is not None and (c.status < 400 or c.status == 404)
            for c in self.raw.calls
        )

    # -- parsed views ---------------------------------------------------------------------------

    @cached_property
    def connections(self) -> tuple[XeroConnection, ...]:
        return tuple(
            self._parse(parse.connection, c) for c in _records(self.payload(Key.XERO_CONNECTIONS))
        )

    @cached_property
    def learner(self) -> Learner | None:
        item = self.payload(Key.WISENET_LEARNER)
        return self._parse(parse.learner, item) if isinstance(item, Mapping) else None

    @cached_property
    def wisenet_invoices(self) -> tuple[WisenetInvoice, ...]:
        return tuple(
            self._parse(parse.wisenet_invoice, i)
            for i in _records(self.payload(Key.WISENET_INVOICES))
        )

    @cached_property
    def contact(self) -> XeroContact | None:
        contacts = _envelope(self.payload(Key.XERO_CONTACT), "Contacts")
        return self._parse(parse.contact, contacts[0]) if contacts else None

    @cached_property
    def candidates(self) -> tuple[XeroContact, ...]:
        """Contacts the name and email searches returned, each once."""
        found: dict[str, XeroContact] = {}
        for key in (Key.XERO_SEARCH_NAME, Key.XERO_SEARCH_EMAIL):
            if key is Key.XERO_SEARCH_EMAIL and not self.has(key):
                continue  # a learner without an email is not searched by email
            for record in _envelope(self.payload(key), "Contacts"):
                parsed = self._parse(parse.contact, record)
                found.setdefault(parsed.contact_id, parsed)
        return tuple(found.values())

    @cached_property
    def xero_invoices(self) -> tuple[XeroInvoice, ...]:
        return tuple(
            self._parse(parse.invoice, i)
            for i in _envelope(self.payload(Key.XERO_INVOICES), "Invoices")
        )

    @cached_property
    def lookalike_invoices(self) -> tuple[XeroInvoice, ...]:
        """Invoices raised on the learner's look-alike or merged-into contacts (none asked
        when there are no such contacts)."""
        if not self.has(Key.XERO_LOOKALIKE_INVOICES):
            return ()
        return tuple(
            self._parse(parse.invoice, i)
            for i in _envelope(self.payload(Key.XERO_LOOKALIKE_INVOICES), "Invoices")
        )

    def invoice_contact(self, invoice: XeroInvoice) -> XeroContact | None:
        """The full contact an invoice was raised on, from whichever fetch holds it."""
        if self.has(Key.XERO_INVOICE_CONTACTS):
            for record in _envelope(self.payload(Key.XERO_INVOICE_CONTACTS), "Contacts"):
                if parse.text(record, "ContactID") == invoice.contact_id:
                    return self._parse(parse.contact, record)
            return None
        learner_contact = self.contact
        if learner_contact and learner_contact.contact_id == invoice.contact_id:
            return learner_contact
        return None

    @cached_property
    def alerts(self) -> tuple[EventAlert, ...] | None:
        """Event Alerts rows, or None when no export (and no sandbox alerts) was given."""
        if not self.has(Key.EVENT_ALERTS):
            return None
        return tuple(
            self._parse(parse.event_alert, a) for a in _records(self.payload(Key.EVENT_ALERTS))
        )


def remembered(memo: dict[tuple[str, int], Any], parser: Callable[[Any], T], record: Any) -> T:
    """`parser(record)`, parsed once for all who share `memo`."""
    key = (parser.__name__, id(record))
    if key not in memo:  # the record is kept with it: its id is never reused
        memo[key] = (record, parser(record))
    return memo[key][1]  # type: ignore[no-any-return]


def _records(payload: Any) -> list[Mapping[str, Any]]:
    if not isinstance(payload, list):
        return []
    return [r for r in payload if isinstance(r, Mapping)]


def _envelope(payload: Any, collection: str) -> list[Mapping[str, Any]]:
    if not isinstance(payload, Mapping):
        return []
    return _records(payload.get(collection))
