"""The support-request report as plain data: what goes in the Word document, in order.

Built from a Diagnosis and its Evidence — nothing is fetched. Personal data is allow-listed:
only the fields support needs are copied out of the payloads (never date of birth, USI, tax
file, Medicare or passport numbers), and with `redact` every name, email, phone and street line
is replaced by a consistent pseudonym. Every string is made XML-safe here, once.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any
from urllib.parse import unquote_plus

from diagnose import __version__
from diagnose.checking import xero_contact_link, xero_invoice_link
from diagnose.evidence import Evidence, Key, Unavailable
from diagnose.model import (
    Address,
    Diagnosis,
    Finding,
    Learner,
    Status,
    TargetKind,
    XeroContact,
    XeroInvoice,
)
from diagnose.redact import WHAT_IS_REDACTED, Pseudonyms
from diagnose.textsafe import xml_safe

NOTHING_TRIED = "nothing recorded by diagnose"
NO_LEARNER = (
    "Not looked up: the invoice's contact has no Contact Code, so no Wisenet learner is linked."
)
VERDICTS = {
    Status.PASS: "No problem found: nothing blocks the sync.",
    Status.WARN: "Nothing blocks the sync, but there are warnings.",
    Status.FAIL: "The sync is blocked.",
    Status.ERROR: "Incomplete: some checks could not be decided.",
}
STAGES = ("Wisenet learner", "Xero contact", "Xero invoice", "Wisenet Xero Invoices tab")
STAGE_CHECKS = (
    ("learner.",),
    ("contact.",),
    ("invoice.found", "invoice.type", "invoice.status", "invoice.contact-"),
    ("invoice.in-wisenet",),
)


@dataclass
class Table:
    columns: Sequence[str]
    rows: list[list[str]]
    title: str = ""
    key_value: bool = False  # a two-column "field | value" table without a header row
    widths: Sequence[float] = ()  # relative column widths; empty: let Word decide


@dataclass
class Block:
    """A heading and what stands under it, in order: paragraphs (str) and tables."""

    heading: str
    level: int = 1
    items: list[str | Table] = field(default_factory=list)
    status: Status | None = None
    chain: bool = False  # the sync-chain picture goes under this heading

    def add(self, *items: str | Table) -> Block:
        self.items.extend(items)
        return self


@dataclass
class ChainCell:
    stage: str
    status: Status | None  # None: not reached or not applicable
    note: str
    breaks_here: bool = False


@dataclass
class Report:
    title: str
    headline: str
    organisation: str
    subject: str
    checked_at: str
    version: str
    mode: str
    verdict: str
    failing: list[dict[str, str]]
    redaction: str
    blocks: list[Block]
    chain: list[list[ChainCell]]
    file_stem: str
    core_subject: str

    def context(self) -> dict[str, Any]:
        """The values a template's Jinja placeholders may use."""
        return {
            "title": self.title,
            "headline": self.headline,
            "organisation": self.organisation,
            "subject": self.subject,
            "checked_at": self.checked_at,
            "version": self.version,
            "mode": self.mode,
            "sandbox": self.mode.startswith("Sandbox"),
            "verdict": self.verdict,
            "failing": self.failing,
            "redaction": self.redaction,
        }


def _when(moment: datetime | date | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.isoformat()


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


class _Builder:
    def __init__(
        self,
        diagnosis: Diagnosis,
        evidence: Evidence,
        redact: bool,
        remedies: Sequence[Mapping[str, Any]],
    ) -> None:
        self.d = diagnosis
        self.e = evidence
        self.p = Pseudonyms(enabled=redact)
        self.redact = redact
        self._register_people()
        learner, _ = self.get(lambda: self.e.learner)
        subject = f"learner {learner.learner_id}" if learner else None
        self.tried = [
            self.safe(
                f"{str(r.get('when', ''))[:16].replace('T', ' ')} UTC {r.get('action')} "
                f"{r.get('outcome')}: {r.get('detail', '')}"
            )
            for r in remedies
            if subject and r.get("subject") == subject
        ]

    def get(self, fetch: Callable[[], Any]) -> tuple[Any, str | None]:
        try:
            return fetch(), None
        except Unavailable as exc:
            return None, f"Could not be fetched: {exc.problem.message}."

    def safe(self, value: object) -> str:
        """XML-safe and, with --redact, pseudonymised; lines of a paragraph flow together."""
        text = xml_safe(value)
        if "\n" in text:
            paragraphs = re.split(r"\n\s*\n", text)
            text = "\n".join(" ".join(p.split()) for p in paragraphs)
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
        )

    def fields(self, pairs: Iterable[tuple[str, object]], title: str = "") -> Table:
        return self.table(("Field", "Value"), pairs, title=title, key_value=True)

    def finding_block(self, f: Finding) -> Block:
        block = Block(
            heading=self.safe(f"{f.status.glyph} {f.check_id} — {f.title} ({f.target.label})"),
            level=2,
            status=f.status,
        )
        block.add(
            self.safe(f"What we checked: {f.explanation or f.title}"),
            self.safe(f"What we found: {f.message}"),
        )
        scalars = [
            (k.replace("_", " "), v)
            for k, v in f.evidence.items()
            if not isinstance(v, (list, dict))
        ]
        if scalars:
            block.add(self.fields(scalars, "Evidence"))
        for key, value in f.evidence.items():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                columns = list(dict.fromkeys(k for row in value for k in row))
                rows = [[row.get(c, "") for c in columns] for row in value]
                block.add(self.table(columns, rows, title=key.replace("_", " ")))
            elif isinstance(value, list) and value:
                block.add(self.table((key.replace("_", " "),), [[v] for v in value]))
        block.add(*(self.safe(f"Xero: {link}") for link in f.links))
        if f.fix:
            block.add(self.safe(f"How to fix it: {f.fix}"))
        if self.tried:
            block.add("Remedies already attempted:", *(f"• {t}" for t in self.tried))
        else:
            block.add(f"Remedies already attempted: {NOTHING_TRIED}.")
        return block

    def contact_search(self) -> Block:
        block = Block("Xero contact search", 2)
        learner, _ = self.get(lambda: self.e.learner)
        if learner is not None:
            terms = [t for t in (learner.full_name, learner.email.strip()) if t]
            block.add(
                self.safe(
                    "Xero contacts, archived ones included, searched for "
                    + " and ".join(f"“{t}”" for t in terms)
                    + f", and the contact whose Contact Code is {learner.learner_number}."
                )
            )
        rows = [
            (
                c.name,
                c.contact_number or "(none)",
                c.status,
                c.email,
                xero_contact_link(c.contact_id),
            )
            for c in self.contacts()
        ]
        if rows:
            block.add(
                self.table(
                    ("Name", "Contact Code", "Status", "Email", "Xero link"),
                    rows,
                    widths=(3.2, 2.6, 2.2, 4, 5),
                )
            )
        else:
            block.add("No Xero contact was found.")
        return block

    def contact_details(self) -> Block:
        block = Block("Xero contact", 2)
        shown = [c for c in self.contacts() if c.contact_number or self._on_an_invoice(c)]
        if not shown:
            block.add("No Xero contact carries the learner's Contact Code.")
        for c in shown:
            block.add(
                self.fields(
                    [
                        ("Name", c.name),
                        ("First name", c.first_name),
                        ("Last name", c.last_name),
                        ("Contact Code", c.contact_number or "(none)"),
                        ("Status", c.status),
                        ("Merged into", c.merged_to or ""),
                        ("Email", c.email),
                        ("Updated", _when(c.updated)),
                        ("ContactID", c.contact_id),
                        ("Xero link", xero_contact_link(c.contact_id)),
                    ],
                    title=c.name,
                )
            )
            addresses = [
                (a.address_type, a.line1, a.line2, a.city, a.region, a.postal_code, a.country)
                for a in c.addresses
                if not a.is_empty
            ]
            if addresses:
                block.add(
                    self.table(
                        ("Type", "Line 1", "Line 2", "City", "Region", "Postcode", "Country"),
                        addresses,
                        title="Addresses",
                    )
                )
            phones = [
                (p.phone_type, p.country_code, p.area_code, p.number) for p in c.phones if p.number
            ]
            if phones:
                block.add(self.table(("Type", "Country", "Area", "Number"), phones, title="Phones"))
        return block

    def _on_an_invoice(self, contact: XeroContact) -> bool:
        invoices, _ = self.get(lambda: self.e.xero_invoices)
        return any(inv.contact_id == contact.contact_id for inv in invoices or ())

    def invoices(self) -> Block:
        block = Block("Xero invoice(s)", 2)
        invoices, problem = self.get(lambda: self.e.xero_invoices)
        if problem:
            block.add(problem)
            return block
        if not invoices:
            block.add("The learner's Xero contact has no invoices.")
            return block
        block.add(
            self.table(
                ("Number", "Type", "Status", "Contact", "Date", "Due", "Total", "Amount due"),
                [
                    (
                        inv.number,
                        inv.type,
                        inv.status,
                        inv.contact_name,
                        _when(inv.date),
                        _when(inv.due_date),
                        _money(inv.total),
                        _money(inv.amount_due),
                    )
                    for inv in invoices
                ],
                widths=(2.2, 2.4, 2.5, 2.6, 2, 2, 1.8, 1.8),
            )
        )
        for inv in invoices:
            block.add(self._line_items(inv))
        return block

    def _line_items(self, inv: XeroInvoice) -> Table:
        rows = [
            (
                li.description,
                li.quantity,
                _money(li.unit_amount),
                _money(li.line_amount),
                li.account_code,
            )
            for li in inv.line_items
        ]
        title = (
            f"{inv.number} · {inv.currency} · updated {_when(inv.updated)} · "
            f"{xero_invoice_link(inv.invoice_id, inv.type)}"
        )
        return self.table(
            ("Description", "Quantity", "Unit", "Amount", "Account"),
            rows,
            title=title,
            widths=(8, 2, 2.4, 2.4, 2.2),
        )

    def learner(self) -> Block:
        block = Block("Wisenet learner", 2)
        if not self.e.has(Key.WISENET_LEARNER):
            return block.add(NO_LEARNER)
        learner, problem = self.get(lambda: self.e.learner)
        if learner is None:
            block.add(problem or "No Wisenet learner is linked to this subject.")
            return block
        block.add(
            self.fields(
                [
                    ("LearnerId", learner.learner_id),
                    ("RefInternal", learner.learner_number),
                    ("First name", learner.first_name),
                    ("Last name", learner.last_name),
                    ("Email", learner.email),
                    ("Mobile", learner.mobile),
                    ("Sync to Xero", "ticked" if learner.sync_to_xero else "not ticked"),
                    ("Active", "yes" if learner.is_active else "no"),
                ]
            )
        )
        rows = [
            self._address_row(name, learner, address)
            for name, address in (("Street", learner.street), ("Postal", learner.postal))
            if not address.is_empty
        ]
        if rows:
            block.add(
                self.table(
                    ("Address", "Street", "Suburb", "State", "Postcode", "Country"),
                    rows,
                    title="Addresses",
                )
            )
        return block

    @staticmethod
    def _address_row(name: str, learner: Learner, address: Address) -> list[object]:
        state = learner.states.get(address.state_id) if address.state_id is not None else None
        country = (
            learner.countries.get(address.country_id) if address.country_id is not None else None
        )
        state_text = (
            f"{state.short} ({state.long})"
            if state
            else (f"#{address.state_id}" if address.state_id else "")
        )
        country_text = (
            country.description
            if country
            else (f"#{address.country_id}" if address.country_id else "")
        )
        return [
            name,
            address.street_line,
            address.suburb,
            state_text,
            address.postcode,
            country_text,
        ]

    def wisenet_invoices(self) -> Block:
        block = Block("Wisenet Xero Invoices tab", 2)
        if not self.e.has(Key.WISENET_INVOICES) and not self.e.has(Key.WISENET_LEARNER):
            return block.add(NO_LEARNER)
        rows, problem = self.get(lambda: self.e.wisenet_invoices)
        if problem:
            block.add(problem)
        elif not rows:
            block.add("Wisenet lists no Xero invoice for this learner.")
        else:
            block.add(
                self.table(
                    ("Number", "Status", "Total", "Amount due", "Updated"),
                    [
                        (
                            w.number,
                            w.status,
                            _money(w.total),
                            _money(w.amount_due),
                            _when(w.updated),
                        )
                        for w in rows
                    ],
                )
            )
        return block

    def event_alerts(self) -> Block | None:
        alerts, _ = self.get(lambda: self.e.alerts)
        if alerts is None:
            return None
        block = Block("Event alerts", 2)
        related = self.alerts()
        if not related:
            block.add("No Xero event alert names this learner or its invoices.")
            return block
        block.add(
            self.table(
                ("Created", "Type", "Details", "Record", "Acknowledged"),
                [
                    (
                        _when(a.created_on),
                        a.alert_type,
                        a.details,
                        a.related_record,
                        "yes" if a.acknowledged else "no",
                    )
                    for a in related
                ],
            )
        )
        return block

    def appendix(self) -> list[Block]:
        calls = self.table(
            ("Service", "Request", "Status", "ms", "Round", "Xero correlation id"),
            [
                (
                    c.service.value,
                    f"{c.method} {unquote_plus(c.path)}",
                    c.status if c.status is not None else "no answer",
                    f"{c.ms:.0f}",
                    c.round,
                    c.correlation_id or "",
                )
                for c in self.d.calls
            ],
            widths=(2.0, 7.3, 1.4, 1.1, 1.5, 3.7),
        )
        environment = self.fields(
            [
                ("Tool", f"diagnose {__version__}"),
                ("Python", platform.python_version()),
                ("Platform", platform.platform()),
                ("Data", self.mode()),
                ("Evidence taken", _when(self.d.taken_at)),
            ]
        )
        api = Block("API calls", 2).add(
            "Every call made for this diagnosis. No credential is recorded.", calls
        )
        return [Block("Appendix", 1), api, Block("Environment", 2).add(environment)]

    def mode(self) -> str:
        if self.d.mode == "sandbox":
            return "Sandbox (built-in sample data, not a real organisation)"
        return "Live"

    # -- the chain ------------------------------------------------------------------------------

    def chain(self) -> list[list[ChainCell]]:
        by_target: dict[str, list[Finding]] = {}
        for f in self.d.findings:
            by_target.setdefault(f.target.key, []).append(f)
        learner_side = [f for f in self.d.findings if f.target.kind is TargetKind.LEARNER]
        invoice_keys = list(
            dict.fromkeys(
                f.target.key for f in self.d.findings if f.target.kind is TargetKind.INVOICE
            )
        )
        rows = []
        for key in invoice_keys or [""]:
            findings = learner_side + by_target.get(key, [])
            label = next((f.target.label for f in by_target.get(key, [])), "no invoice")
            rows.append(self._chain_row(findings, label))
        return rows

    def _chain_row(self, findings: list[Finding], invoice_label: str) -> list[ChainCell]:
        cells: list[ChainCell] = []
        broken = False
        for stage, prefixes in zip(STAGES, STAGE_CHECKS, strict=True):
            mine = [f for f in findings if f.check_id.startswith(prefixes)]
            decided = [f for f in mine if f.status is not Status.SKIP]
            if not decided:
                cells.append(ChainCell(stage, None, "not reached" if broken else "not checked"))
                continue
            worst = next(
                (
                    s
                    for s in (Status.ERROR, Status.FAIL, Status.WARN)
                    if any(f.status is s for f in decided)
                ),
                Status.PASS,
            )
            bad = (
                [f.check_id for f in decided if f.status is worst]
                if worst is not Status.PASS
                else []
            )
            note = {
                Status.PASS: "ok",
                Status.WARN: "warning",
                Status.FAIL: "broken",
                Status.ERROR: "unknown",
            }[worst]
            if stage == "Xero invoice":
                note = f"{invoice_label}: {note}"
            if bad:
                note += ": " + ", ".join(bad)
            first_break = worst in (Status.FAIL, Status.ERROR) and not broken
            broken = broken or first_break
            cells.append(ChainCell(stage, worst, self.safe(note), breaks_here=first_break))
        return cells

    # -- the whole report -----------------------------------------------------------------------

    def build(self) -> Report:
        d = self.d
        noteworthy = [f for f in d.findings if f.status in (Status.FAIL, Status.WARN, Status.ERROR)]
        failing = [
            {
                "id": f.check_id,
                "status": f.status.glyph,
                "message": self.safe(f.message),
                "tried": "; ".join(self.tried) or NOTHING_TRIED,
            }
            for f in noteworthy
        ]
        blocks = [Block("What is wrong", 1)]
        blocks += [self.finding_block(f) for f in noteworthy] or [
            Block("Nothing to fix", 2).add("Every check passed or did not apply.")
        ]
        blocks.append(Block("Evidence", 1))
        blocks += [
            self.contact_search(),
            self.contact_details(),
            self.invoices(),
            self.learner(),
            self.wisenet_invoices(),
        ]
        alerts = self.event_alerts()
        if alerts is not None:
            blocks.append(alerts)
        blocks.append(
            Block("Sync chain", 1, chain=True).add(
                "Where the chain Wisenet learner → Xero contact → Xero invoice → Wisenet Xero "
                "Invoices tab stops: “stops here” marks the first broken link, one row per invoice."
            )
        )
        blocks += self.appendix()
        headline = self.safe(d.headline)
        return Report(
            title=f"Support request: {headline}",
            headline=headline,
            organisation=self.safe(d.tenant),
            subject=self.safe(f"{d.subject.kind} {d.subject.ref}"),
            checked_at=_when(d.taken_at),
            version=__version__,
            mode=self.mode(),
            verdict=VERDICTS.get(d.status, ""),
            failing=failing,
            redaction=WHAT_IS_REDACTED if self.redact else "",
            blocks=blocks,
            chain=self.chain(),
            file_stem=self._file_stem(),
            core_subject=self.safe(f"Wisenet ↔ Xero sync: {d.subject.kind} {d.subject.ref}"),
        )

    def _file_stem(self) -> str:
        learner, _ = self.get(lambda: self.e.learner)
        subject = self.d.subject
        key = (
            str(learner.learner_id) if subject.kind.value == "learner" and learner else subject.ref
        )
        if self.redact and subject.kind.value == "learner" and not learner:
            key = "redacted"
        slug = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in key)[:60].strip("-.")
        return (
            f"support-request-{subject.kind.value}-{slug or 'subject'}-{self.d.taken_at:%Y-%m-%d}"
        )


def build_report(
    diagnosis: Diagnosis,
    evidence: Evidence,
    *,
    redact: bool = False,
    remedies: Sequence[Mapping[str, Any]] = (),
) -> Report:
    """`remedies`: audit-log entries; those about this diagnosis's learner are listed as tried."""
    return _Builder(diagnosis, evidence, redact, remedies).build()
