"""What turns the evidence into a ticket: who asks, what is broken and what it costs since when,
what we ask of Wisenet support, and what happened in what order. Derived from the diagnosis and
its evidence alone; nothing is fetched."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from diagnose.evidence import Evidence, Unavailable
from diagnose.model import Diagnosis, Finding, Status, SubjectKind, TargetKind
from diagnose.textsafe import counted

STAFF = (
    ("Name", "DIAGNOSE_STAFF_NAME"),
    ("Role", "DIAGNOSE_STAFF_ROLE"),
    ("Email", "DIAGNOSE_STAFF_EMAIL"),
    ("Phone", "DIAGNOSE_STAFF_PHONE"),
)
FILL_IN = "(to fill in)"
DEFAULT_ZONE = "Australia/Sydney"


@dataclass(frozen=True)
class Sender:
    """Who sends the ticket and from where: the staff member's details from the environment
    (`DIAGNOSE_STAFF_NAME`, `_ROLE`, `_EMAIL`, `_PHONE`), the profile's Wisenet site and the
    organisation's time zone."""

    staff: tuple[tuple[str, str], ...] = ()
    wisenet: str = ""
    zone: str = DEFAULT_ZONE

    @classmethod
    def from_env(cls, *, wisenet: str = "", zone: str = DEFAULT_ZONE) -> Sender:
        staff = tuple((label, os.environ.get(name, "").strip()) for label, name in STAFF)
        return cls(staff, wisenet, zone)

    @property
    def name(self) -> str:
        return dict(self.staff).get("Name", "")


@dataclass
class Affected:
    """The records a failure blocks, the money they hold, and since when."""

    learners: list[str] = field(default_factory=list)
    invoices: list[str] = field(default_factory=list)
    outstanding: dict[str, float] = field(default_factory=dict)  # by currency
    since: date | None = None

    def sentence(self) -> str:
        parts = []
        if self.learners:
            parts.append(counted(len(self.learners), "learner"))
        if self.invoices:
            shown = ", ".join(self.invoices[:5]) + (" …" if len(self.invoices) > 5 else "")
            parts.append(f"{counted(len(self.invoices), 'invoice')} ({shown})")
        if not parts:
            return ""
        text = "Records affected: " + " and ".join(parts)
        money = [
            f"{cur} {amount:,.2f}".strip() for cur, amount in self.outstanding.items() if amount
        ]
        if money:
            text += f", {' + '.join(money)} outstanding"
        if self.since:
            text += f", since {self.since.isoformat()}"
        return text + "."


def affected(d: Diagnosis, e: Evidence) -> Affected:
    found = Affected()
    failing = [f for f in d.findings if f.status is Status.FAIL]
    found.learners = list(
        dict.fromkeys(f.target.label for f in failing if f.target.kind is TargetKind.LEARNER)
    )
    keys = {f.target.key for f in failing if f.target.kind is TargetKind.INVOICE}
    dates: list[date] = []
    try:
        invoices = e.xero_invoices
    except Unavailable:
        invoices = ()
    seen: set[str] = set()
    for inv in invoices:
        if inv.invoice_id in keys or (d.subject.kind is SubjectKind.INVOICE and keys):
            _count(found, seen, inv.number, inv.currency, inv.amount_due, inv.date, dates)
    for f in failing:
        for row in f.evidence.get("stuck_invoices") or ():
            if isinstance(row, Mapping):
                when = _date(row.get("date"))
                _count(
                    found,
                    seen,
                    str(row.get("number", "")),
                    str(row.get("currency") or ""),
                    row.get("amount_due"),
                    when,
                    dates,
                )
    found.since = min(dates, default=None)
    return found


def _count(
    found: Affected,
    seen: set[str],
    number: str,
    currency: str,
    due: Any,
    when: date | None,
    dates: list[date],
) -> None:
    if number in seen:
        return
    seen.add(number)
    found.invoices.append(number)
    if isinstance(due, (int, float)):
        found.outstanding[currency] = found.outstanding.get(currency, 0.0) + float(due)
    if when is not None:
        dates.append(when)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def summary(d: Diagnosis, found: Affected, headline: str = "") -> str:
    """One paragraph: what is broken, and what it costs since when; `headline` names the
    subject (the diagnosis's own headline when not given)."""
    headline = headline or d.headline
    bad = [f for f in d.findings if f.status in (Status.FAIL, Status.ERROR)]
    warned = [f for f in d.findings if f.status is Status.WARN]
    if not bad and not warned:
        return _sentence(
            f"{headline}: every check passed; nothing blocks the sync between Wisenet and Xero."
        )
    listed = _messages(bad or warned)
    if bad:
        failed = sum(f.status is Status.FAIL for f in bad)
        undecided = len(bad) - failed
        counts = [counted(failed, "check") + " failed"] if failed else []
        counts += [counted(undecided, "check") + " could not be decided"] if undecided else []
        counts += [counted(len(warned), "warning")] if warned else []
        text = f"{headline} is not syncing between Wisenet and Xero: {', '.join(counts)}. {listed}"
    else:
        text = (
            f"{headline}: nothing blocks the sync, but {counted(len(warned), 'warning')} "
            f"{'needs' if len(warned) == 1 else 'need'} a look. {listed}"
        )
    impact = found.sentence()
    return _sentence(f"{text} {impact}".strip())


def _messages(findings: Sequence[Finding]) -> str:
    shown = list(dict.fromkeys(_sentence(f.message).rstrip(".") for f in findings))
    more = f" (and {len(shown) - 3} more below)" if len(shown) > 3 else ""
    return "; ".join(shown[:3]) + more + "."


def _sentence(message: str) -> str:
    text = message.strip()
    return text[:1].upper() + text[1:]


# What Wisenet support is asked for each failing check: worded for the engineer who reads it.
ASKS: dict[str, str] = {
    "connection.wisenet": "check that our Wisenet API access works (the calls in the appendix "
    "were refused or failed)",
    "connection.xero": "confirm that the integration is still connected to our Xero organisation",
    "learner.found": "check why {learner} cannot be read through the Wisenet API",
    "learner.sync-enabled": "confirm that {learner} is sent to Xero again once we have ticked "
    "“Sync to Xero”, and tell us if your logs show why it was unticked",
    "learner.full-name": "tell us whether the integration rejected {learner} for its name, as "
    "your logs show it",
    "learner.address": "tell us which address field the integration rejected for {learner}",
    "learner.email": "tell us whether the integration rejected {learner} for its email address",
    "learner.field-mapping": "tell us which drop-down value the integration could not map to "
    "Xero for {learner}",
    "contact.found": "tell us whether the integration created a Xero contact for {learner}, and "
    "with which Contact Code",
    "contact.active": "re-send {learner} to Xero once the contact is restored, or tell us how to "
    "proceed when it cannot be",
    "contact.duplicates": "confirm which Xero contact the integration treats as {learner}'s "
    "before we merge the others into it",
    "contact.in-sync": "re-send {learner}'s details to Xero: the contact differs from Wisenet",
    "invoice.status": "confirm whether an invoice in the status of {invoice} is expected to "
    "reach Wisenet",
    "invoice.type": "confirm whether an invoice of the type of {invoice} is expected to reach "
    "Wisenet",
    "invoice.contact-code": "tell us how the integration links {invoice} to a learner when its "
    "contact has no Contact Code",
    "invoice.contact-learner": "confirm how the integration matches {invoice}'s Contact Code to a "
    "learner's RefInternal",
    "invoice.contact-merged": "re-import {invoice} after we have moved it to the learner's "
    "contact, or tell us how it follows a merge",
    "invoice.in-wisenet": "re-import {invoice} into the learner's Xero Invoices tab, or tell us "
    "why the import skipped it",
    "alerts.clear": "explain the Event Alerts listed below and what clears them",
}


def ask(f: Finding, d: Diagnosis) -> str:
    """What Wisenet support is asked about one finding, as a sentence."""
    learner = next((g.target.label for g in d.findings if g.target.kind is TargetKind.LEARNER), "")
    template = ASKS.get(f.check_id, "advise on {check}: {message}")
    text = template.format(
        learner=learner or "the learner",
        invoice=f.target.label if f.target.kind is TargetKind.INVOICE else "the invoice",
        check=f.check_id,
        message=f.message,
    )
    return text[:1].upper() + text[1:] + "."


def request(d: Diagnosis) -> list[str]:
    """The explicit asks, one line each, derived from what failed (each once); warnings only
    when nothing failed."""
    bad = [f for f in d.findings if f.status in (Status.FAIL, Status.ERROR)]
    chosen = bad or [f for f in d.findings if f.status is Status.WARN]
    return list(dict.fromkeys(ask(f, d) for f in chosen))


@dataclass(frozen=True)
class Event:
    moment: datetime | date
    what: str
    source: str

    @property
    def key(self) -> datetime:
        if isinstance(self.moment, datetime):
            return self.moment if self.moment.tzinfo else self.moment.replace(tzinfo=UTC)
        return datetime(self.moment.year, self.moment.month, self.moment.day, tzinfo=UTC)


def timeline(
    d: Diagnosis, e: Evidence, remedies: Iterable[Mapping[str, Any]], alerts: Iterable[Any]
) -> list[Event]:
    """Record changes, Event Alerts, remedies and this check, oldest first, each once."""
    events: list[Event] = []

    def read(fetch: Any) -> Any:
        try:
            return fetch()
        except Unavailable:
            return None

    learner = read(lambda: e.learner)
    if learner is not None and learner.updated:
        events.append(Event(learner.updated, f"{learner.label} last changed", "Wisenet"))
    contacts = {}
    own = read(lambda: e.contact)
    if own is not None:
        contacts[own.contact_id] = own
    for c in read(lambda: e.candidates) or ():
        contacts.setdefault(c.contact_id, c)
    for c in contacts.values():
        if c.updated:
            events.append(
                Event(c.updated, f"Xero contact {c.name} last changed ({c.status})", "Xero")
            )
    for inv in read(lambda: e.xero_invoices) or ():
        if inv.date:
            events.append(Event(inv.date, f"{inv.number} dated ({inv.type})", "Xero"))
        if inv.updated:
            events.append(Event(inv.updated, f"{inv.number} last changed ({inv.status})", "Xero"))
    for w in read(lambda: e.wisenet_invoices) or ():
        if w.updated:
            events.append(
                Event(w.updated, f"{w.number} updated on the Xero Invoices tab", "Wisenet")
            )
    for a in alerts:
        if a.created_on:
            events.append(
                Event(a.created_on, f"Event Alert: {a.alert_type}: {a.details}", "Wisenet")
            )
    for r in remedies:
        moment = _when(r.get("when"))
        if moment is None:
            continue
        who = r.get("who") or r.get("os_user") or "someone"
        detail = f": {r.get('detail')}" if r.get("detail") else ""
        events.append(
            Event(moment, f"{who} ran {r.get('action')}, {r.get('outcome')}{detail}", "diagnose")
        )
    events.append(Event(d.taken_at, "these checks were run", "diagnose"))
    unique = {(ev.key, ev.what): ev for ev in events}
    return sorted(unique.values(), key=lambda ev: ev.key)


def _when(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
