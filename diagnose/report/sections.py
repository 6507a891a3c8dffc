"""The sections of the report: one per failed check, then the evidence the FAQ asks for, then
the appendix."""

from __future__ import annotations

import platform
from datetime import datetime
from urllib.parse import parse_qsl, unquote_plus

from diagnose import __version__
from diagnose.checking import xero_contact_link, xero_invoice_link
from diagnose.evidence import Key
from diagnose.model import (
    Address,
    Finding,
    Learner,
    Status,
    XeroContact,
    XeroInvoice,
)
from diagnose.report.context import ReportContext
from diagnose.report.labels import cell, label, nested
from diagnose.report.model import NO_LEARNER, Block, Table, calls_table, money_text
from diagnose.report.ticket import ask, timeline
from diagnose.textsafe import xml_safe

WIDEST = 5  # columns an evidence table may have across a page; more: a table a record
PERSONAL_PARAMS = {"searchTerm", "search"}  # names and emails searched for


class Sections(ReportContext):
    def finding_block(self, f: Finding) -> Block:
        block = Block(
            # named by the check and the record, never by the passing condition
            heading=self.safe(f"{f.status.glyph} {f.check_id} ({f.target.label})"),
            level=2,
            status=f.status,
        )
        block.add(
            self.safe(f"Found: {f.message}"),
            self.safe(f"Expected: {f.title}. {f.explanation}".strip()),
        )
        scalars = [(label(k), cell(v)) for k, v in f.evidence.items() if not nested(v)]
        if scalars:
            block.add(self.fields(scalars, "Evidence"))
        for key, value in f.evidence.items():
            if isinstance(value, dict):
                block.add(self.fields([(label(k), cell(v)) for k, v in value.items()], label(key)))
            elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                columns = list(dict.fromkeys(k for row in value for k in row))
                if len(columns) > WIDEST:  # too many to fit a page across: one table a record
                    for n, row in enumerate(value, 1):
                        pairs = [(label(c), cell(row.get(c, ""))) for c in columns]
                        block.add(self.fields(pairs, f"{label(key)}: {n} of {len(value)}"))
                    continue
                rows = [[cell(row.get(c, "")) for c in columns] for row in value]
                block.add(self.table([label(c) for c in columns], rows, title=label(key)))
            elif isinstance(value, list) and value:
                block.add(self.table((label(key),), [[v] for v in value]))
        block.add(*(self.safe(f"Xero: {link}") for link in f.links))
        if f.fix:
            block.add(self.safe(f"How the organisation fixes it: {f.fix}"))
        if f.status in (Status.FAIL, Status.ERROR, Status.WARN):
            block.add(self.safe(f"What we ask of Wisenet support: {ask(f, self.d)}"))
        return block

    def timeline(self) -> Block:
        block = Block("Timeline", 1).add(
            "Changes to the records, Event Alerts and the remedies tried, oldest first."
        )
        events = timeline(self.d, self.e, self.remedies, self.alerts())
        block.add(
            self.table(
                ("When", "What happened", "Where"),
                [(self.when(ev.moment), ev.what, ev.source) for ev in events],
                widths=(7.0, 8.0, 2.0),
            )
        )
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
                    widths=(3.4, 2.6, 2.4, 5.6, 3.0),
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
                self.api_fields(
                    [
                        ("Name", c.name, "Name"),
                        ("First name", c.first_name, "FirstName"),
                        ("Last name", c.last_name, "LastName"),
                        ("Contact Code", c.contact_number, "ContactNumber"),
                        ("Status", c.status, "ContactStatus"),
                        ("Merged into", c.merged_to or "", "MergedToContactID"),
                        ("Email", c.email, "EmailAddress"),
                        ("Last changed", self.when(c.updated), "UpdatedDateUTC"),
                        ("ContactID", c.contact_id, "ContactID"),
                        ("Xero link", xero_contact_link(c.contact_id), ""),
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
                        self.when(inv.date),
                        self.when(inv.due_date),
                        money_text(inv.total),
                        money_text(inv.amount_due),
                    )
                    for inv in invoices
                ],
                widths=(2.2, 2.1, 2.2, 2.4, 2.1, 2.1, 1.95, 1.95),
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
                money_text(li.unit_amount),
                money_text(li.line_amount),
                li.account_code,
            )
            for li in inv.line_items
        ]
        title = (
            f"{inv.number} · {inv.currency} · last changed {self.when(inv.updated)} · "
            f"{xero_invoice_link(inv.invoice_id, inv.type)}"
        )
        return self.table(
            ("Description", "Quantity", "Unit", "Amount", "Account"),
            rows,
            title=title,
            widths=(7.4, 2.0, 2.6, 2.6, 2.4),
        )

    def learner(self) -> Block:
        block = Block("Wisenet learner", 2)
        if not self.e.has(Key.WISENET_LEARNER):
            return block.add(NO_LEARNER)
        learner, problem = self.get(lambda: self.e.learner)
        if learner is None:
            block.add(problem or "No Wisenet learner is linked to this subject.")
            return block
        personal = "Personal."
        block.add(
            self.api_fields(
                [
                    ("LearnerId", learner.learner_id, "LearnerId"),
                    ("RefInternal", learner.learner_number, personal + "LearnerNumber"),
                    ("First name", learner.first_name, personal + "FirstName"),
                    ("Last name", learner.last_name, personal + "LastName"),
                    ("Email", learner.email, personal + "EmailAddresses.Email"),
                    ("Mobile", learner.mobile, personal + "PhoneNumbers.Mobile"),
                    (
                        "Sync to Xero",
                        "ticked" if learner.sync_to_xero else "not ticked",
                        personal + "SyncToXero",
                    ),
                    ("Active", "yes" if learner.is_active else "no", personal + "IsActive"),
                    ("Last changed", self.when(learner.updated), "LastModifiedTimeStamp"),
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
                            money_text(w.total),
                            money_text(w.amount_due),
                            self.when(w.updated),
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
                        self.when(a.created_on),
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

    def appendix(self, snapshot: str = "") -> list[Block]:
        calls = calls_table(
            self.d.calls,
            lambda c: self.clock(c.at),
            lambda c: self.request_text(c.method, c.path),
            widths=(1.9, 1.7, 4.7, 1.6, 0.9, 6.2),
        )
        made = (
            f"Made by diagnose {__version__} (Python {platform.python_version()}, "
            f"{platform.platform()}) from {self.mode().lower()} data; evidence taken "
            f"{self.when(self.d.taken_at)}."
        )
        if snapshot:
            made += f" The snapshot saved with --save has SHA-256 {snapshot}."
        api = Block("API calls", 2).add(
            "Every call made for this diagnosis, in the order sent, with the time it was sent. No "
            "credential is recorded."
            + (
                " The names and emails searched for are shown as [redacted]." if self.redact else ""
            ),
            calls,
        )
        return [Block("Appendix", 1).add(xml_safe(made)), api]

    def clock(self, moment: datetime | None) -> str:
        """The time of a call: the organisation's clock, to the second."""
        if moment is None:
            return ""
        local = moment.astimezone(self.zone) if self.zone else moment
        return f"{local:%H:%M:%S} {local.tzname() or 'UTC'}"

    def request_text(self, method: str, path: str) -> str:
        """A call as sent; with --redact, the values that name a person are marked, never
        replaced by a pseudonym (that would be a call that was never made)."""
        if not self.redact:
            return f"{method} {unquote_plus(path)}"
        base, _, query = path.partition("?")
        params = [
            (k, "[redacted]" if k in PERSONAL_PARAMS else v)
            for k, v in parse_qsl(query, keep_blank_values=True)
        ]
        shown = "&".join(f"{k}={v}" for k, v in params)
        return f"{method} {base}" + (f"?{shown}" if shown else "")
