"""The sections of the report: one per failed check, then the evidence the FAQ asks for, then
the appendix."""

from __future__ import annotations

import platform
from urllib.parse import unquote_plus

from diagnose import __version__
from diagnose.checking import xero_contact_link, xero_invoice_link
from diagnose.evidence import Key
from diagnose.model import (
    Address,
    Finding,
    Learner,
    XeroContact,
    XeroInvoice,
)
from diagnose.report.context import ReportContext
from diagnose.report.model import NO_LEARNER, NOTHING_TRIED, Block, Table, money_text, when_text


def _cell(value: object) -> object:
    """A table cell as a person reads it: lists as text, yes/no, a dash for nothing."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value) or "—"
    return value


class Sections(ReportContext):
    def finding_block(self, f: Finding) -> Block:
        block = Block(
            # the title is the condition checked: a heading beside ✗ names the check, not it
            heading=self.safe(f"{f.status.glyph} {f.check_id} ({f.target.label})"),
            level=2,
            status=f.status,
        )
        block.add(
            self.safe(f"What we checked: {f.title}. {f.explanation}".strip()),
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
                rows = [[_cell(row.get(c, "")) for c in columns] for row in value]
                shown = [c.replace("_", " ") for c in columns]
                block.add(self.table(shown, rows, title=key.replace("_", " ")))
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
                        ("Updated", when_text(c.updated)),
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
                        when_text(inv.date),
                        when_text(inv.due_date),
                        money_text(inv.total),
                        money_text(inv.amount_due),
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
                money_text(li.unit_amount),
                money_text(li.line_amount),
                li.account_code,
            )
            for li in inv.line_items
        ]
        title = (
            f"{inv.number} · {inv.currency} · updated {when_text(inv.updated)} · "
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
                            money_text(w.total),
                            money_text(w.amount_due),
                            when_text(w.updated),
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
                        when_text(a.created_on),
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
                ("Evidence taken", when_text(self.d.taken_at)),
            ]
        )
        api = Block("API calls", 2).add(
            "Every call made for this diagnosis. No credential is recorded.", calls
        )
        return [Block("Appendix", 1), api, Block("Environment", 2).add(environment)]
