"""What every part of the report builder shares: the evidence, safe text (XML-safe and, with
--redact, pseudonymised), the people to pseudonymise, and small table helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any

from diagnose.config import zone
from diagnose.evidence import Evidence, Unavailable
from diagnose.model import (
    Diagnosis,
    XeroContact,
)
from diagnose.redact import Pseudonyms
from diagnose.report.model import Table, when_text
from diagnose.report.ticket import Sender
from diagnose.textsafe import flowed, xml_safe


def pseudonyms(diagnosis: Diagnosis, evidence: Evidence) -> Pseudonyms:
    """Every person of a diagnosis, each with the pseudonym the --redact report gives them."""
    return ReportContext(diagnosis, evidence, True, ()).p


class ReportContext:
    def __init__(
        self,
        diagnosis: Diagnosis,
        evidence: Evidence,
        redact: bool,
        remedies: Sequence[Mapping[str, Any]],
        sender: Sender | None = None,
    ) -> None:
        self.d = diagnosis
        self.e = evidence
        self.p = Pseudonyms(enabled=redact)
        self.redact = redact
        self.sender = sender or Sender()
        self.zone = zone(self.sender.zone)
        self._register_people()
        learner, _ = self.get(lambda: self.e.learner)
        subject = f"learner {learner.learner_id}" if learner else None
        self.remedies = [
            r
            for r in remedies
            # the same learner id in another organisation is another person
            if subject and r.get("subject") == subject and r.get("tenant") == diagnosis.tenant
        ]

    def when(self, moment: datetime | date | None) -> str:
        """A time as the report shows it: the organisation's local time beside UTC."""
        return when_text(moment, self.zone)

    def get(self, fetch: Callable[[], Any]) -> tuple[Any, str | None]:
        try:
            return fetch(), None
        except Unavailable as exc:
            return None, f"Could not be fetched: {exc.problem.message}."

    def safe(self, value: object) -> str:
        """XML-safe and, with --redact, pseudonymised; lines of a paragraph flow together."""
        text = xml_safe(value)
        if "\n" in text:
            text = flowed(text)
        return xml_safe(self.p.apply(text))

    def _register_people(self) -> None:
        learner, _ = self.get(lambda: self.e.learner)
        if learner is not None:
            self.p.person(learner.first_name, learner.last_name)
            self.p.email(learner.email)
            self.p.phone(learner.mobile)
            for address in (learner.street, learner.postal):
                self.p.street(address.street_line)
        for contact in self.contacts():
            self.p.person(contact.first_name, contact.last_name, contact.name)
            self.p.email(contact.email)
            for phone in contact.phones:
                self.p.phone(phone.number)
                self.p.phone(f"{phone.area_code} {phone.number}".strip())
            for address in contact.addresses:
                self.p.street(address.line1)
                self.p.street(address.line2)
        invoices, _ = self.get(lambda: self.e.xero_invoices)
        for inv in invoices or ():
            self.p.person("", "", inv.contact_name)
        for alert in self.alerts():
            if " " in alert.related_record.strip():  # a name rather than a RefInternal
                self.p.person("", "", alert.related_record)

    def contacts(self) -> list[XeroContact]:
        found: dict[str, XeroContact] = {}
        own, _ = self.get(lambda: self.e.contact)
        if own is not None:
            found[own.contact_id] = own
        for invoice in self.get(lambda: self.e.xero_invoices)[0] or ():
            contact, _ = self.get(partial(self.e.invoice_contact, invoice))
            if contact is not None:
                found.setdefault(contact.contact_id, contact)
        for candidate in self.get(lambda: self.e.candidates)[0] or ():
            found.setdefault(candidate.contact_id, candidate)
        return list(found.values())

    def alerts(self) -> list[Any]:
        """Only the alerts about this subject: other learners' alerts are not support's business."""
        alerts, _ = self.get(lambda: self.e.alerts)
        if not alerts:
            return []
        learner, _ = self.get(lambda: self.e.learner)
        invoices, _ = self.get(lambda: self.e.xero_invoices)
        names = {inv.number.casefold() for inv in invoices or ()}
        if learner is not None:
            names |= {learner.learner_number.casefold(), learner.full_name.casefold()}
        names.discard("")
        return [a for a in alerts if a.related_record.strip().casefold() in names]

    # -- sections -----------------------------------------------------------------------------

    def table(
        self,
        columns: Sequence[str],
        rows: Iterable[Iterable[object]],
        *,
        title: str = "",
        key_value: bool = False,
        widths: Sequence[float] = (),
    ) -> Table:
        return Table(
            [self.safe(c) for c in columns],
            [[self.safe(v) for v in row] for row in rows],
            title=self.safe(title),
            key_value=key_value,
            widths=widths,
            small=not key_value,  # codes, statuses and amounts stay on one line
        )

    def fields(self, pairs: Iterable[tuple[str, object]], title: str = "") -> Table:
        """Label and value; an empty value reads "(none)", as in every other table."""
        shown = [(label, "(none)" if value in ("", None) else value) for label, value in pairs]
        return self.table(("Field", "Value"), shown, title=title, key_value=True, widths=(5, 12))

    def api_fields(self, rows: Iterable[tuple[str, object, str]], title: str = "") -> Table:
        """Label, value and the API's own field name side by side."""
        shown = [(label, "(none)" if v in ("", None) else v, api) for label, v, api in rows]
        return self.table(("Field", "Value", "API field"), shown, title=title, widths=(4, 8, 5))

    def mode(self) -> str:
        if self.d.mode == "sandbox":
            return "Sandbox (built-in sample data, not a real organisation)"
        return "Live"
