"""Xero → Wisenet: will this invoice come back to the learner's "Xero Invoices" tab? (FAQ: "Sync
is not working from Xero to Wisenet".)"""

from __future__ import annotations

from typing import Any

from diagnose.api import (
    Evidence,
    Learner,
    Outcome,
    Status,
    SubjectKind,
    WisenetInvoice,
    XeroContact,
    XeroInvoice,
    check,
    contact_state,
    counted,
    failed,
    near_miss,
    passed,
    warned,
    xero_contact_link,
    xero_invoice_link,
)

SALES_TYPES = ("ACCREC", "ACCRECCREDIT")
SYNCED_STATUSES = ("AUTHORISED", "PAID", "VOIDED", "DELETED")
UNSYNCED_STATUSES = ("DRAFT", "SUBMITTED")
NOT_FOR_WISENET = Outcome(Status.SKIP, "not a sales document, so not meant for Wisenet")


def _brief(invoice: XeroInvoice) -> dict[str, Any]:
    return {
        "invoice_id": invoice.invoice_id,
        "number": invoice.number,
        "type": invoice.type,
        "status": invoice.status,
        "contact": invoice.contact_name,
        "total": invoice.total,
    }


def _link(invoice: XeroInvoice) -> tuple[str, ...]:
    return (xero_invoice_link(invoice.invoice_id, invoice.type),)


@check(
    "invoice.found",
    title="The invoice exists in Xero",
    applies_to="invoice",
    requires=("connection.xero",),
    fix="""
    Check the invoice number in Xero (Business › Invoices, search). Sales invoice numbers look like
    INV-0042; an InvoiceID is the long code at the end of the invoice's address in Xero.
    """,
)
def invoice_found(invoice: XeroInvoice | None, evidence: Evidence) -> Outcome:
    """Every other invoice check reads the Xero invoice, so it must be found first."""
    if invoice is None:
        return failed(f"no Xero invoice matches {evidence.subject.ref!r}")
    return passed(
        f"{invoice.number} on {invoice.contact_name}", links=_link(invoice), **_brief(invoice)
    )


@check(
    "invoice.type",
    title="It is a sales invoice or credit note",
    applies_to="invoice",
    requires=("invoice.found",),
    fix="""
    Nothing to sync: Wisenet only brings back sales documents. If this should be a learner's
    invoice, raise it in Xero as a sales invoice (Business › Invoices › New invoice).
    """,
)
def invoice_type(invoice: XeroInvoice, evidence: Evidence) -> Outcome:
    """Only sales documents (ACCREC invoices and ACCRECCREDIT credit notes) belong on a learner's
    Xero Invoices tab; bills (ACCPAY) never sync. Asked about the invoice, a bill is the answer;
    seen from a learner, a bill on their contact is worth a look but blocks nothing."""
    if invoice.type in SALES_TYPES:
        return passed(f"{invoice.number} is a sales document ({invoice.type})")
    kind = "a bill" if invoice.type.startswith("ACCPAY") else f"of type {invoice.type}"
    if evidence.subject.kind is SubjectKind.LEARNER:
        return warned(
            f"{invoice.number} is {kind} ({invoice.type}) on the learner's contact: it is not "
            "meant for Wisenet and blocks nothing",
            fix="Nothing to do for the sync. If it was raised on the learner's contact by "
            "mistake, move it in Xero.",
            links=_link(invoice),
            **_brief(invoice),
        )
    return failed(
        f"{invoice.number} is {kind} ({invoice.type}), not a sales invoice",
        links=_link(invoice),
        **_brief(invoice),
    )


@check(
    "invoice.status",
    title="The invoice is approved (Authorised, Paid, Void or Deleted)",
    applies_to="invoice",
    requires=("invoice.type",),
    fix="""
    In Xero open the invoice and Approve it (Business › Invoices › Draft or Awaiting Approval ›
    Approve). Wisenet picks it up once it is Authorised.
    """,
)
def invoice_status(invoice: XeroInvoice) -> Outcome:
    """Draft and Submitted (awaiting approval) invoices do not sync; Authorised, Paid, Voided and
    Deleted ones do."""
    if invoice.type not in SALES_TYPES:
        return NOT_FOR_WISENET
    if invoice.status in SYNCED_STATUSES:
        return passed(f"{invoice.number} is {invoice.status}")
    if invoice.status in UNSYNCED_STATUSES:
        shown = "Draft" if invoice.status == "DRAFT" else "Awaiting Approval (Submitted)"
        return failed(
            f"{invoice.number} is {shown}, which does not sync",
            links=_link(invoice),
            **_brief(invoice),
        )
    return warned(
        f"{invoice.number} has a status diagnose does not know: {invoice.status!r}",
        links=_link(invoice),
        **_brief(invoice),
    )


@check(
    "invoice.contact-code",
    title="The invoice's contact has a Contact Code",
    applies_to="invoice",
    requires=("invoice.type",),
    fix="""
    In Xero open Contacts › All contacts, tick this contact, choose Merge, and merge it INTO the
    learner's Wisenet-created contact (the one whose Contact Code is the RefInternal); the invoice
    moves with it and then syncs.
    """,
)
def invoice_contact_code(invoice: XeroInvoice, invoice_contact: XeroContact | None) -> Outcome:
    """Wisenet finds the learner for an invoice by its contact's Contact Code; a contact without
    one (created in Xero, or left behind by a merge) leaves the invoice with no learner."""
    if invoice.type not in SALES_TYPES:
        return NOT_FOR_WISENET
    if invoice_contact is None:
        return failed(
            f"the contact {invoice.contact_name or invoice.contact_id} of {invoice.number} "
            "could not be read from Xero",
            contact_id=invoice.contact_id,
        )
    links = (xero_contact_link(invoice_contact.contact_id),)
    if not invoice_contact.contact_number:
        return failed(
            f"{invoice_contact.name} has no Contact Code, so Wisenet cannot tell whose invoice "
            f"{invoice.number} is",
            links=links,
            contact=invoice_contact.name,
            contact_id=invoice_contact.contact_id,
        )
    return passed(
        f"{invoice_contact.name} has Contact Code {invoice_contact.contact_number}", links=links
    )


@check(
    "invoice.contact-learner",
    title="The Contact Code belongs to a Wisenet learner",
    applies_to="invoice",
    requires=("invoice.contact-code", "connection.wisenet"),
    fix="""
    Find the learner in Wisenet and compare their RefInternal with the contact's Contact Code. If
    the invoice is on the wrong contact, merge that contact into the learner's Wisenet-created
    contact in Xero.
    """,
)
def invoice_contact_learner(
    invoice_contact: XeroContact, invoice_learner: Learner | None, learner: Learner | None
) -> Outcome:
    """The Contact Code must be the RefInternal of a learner, exactly, or the invoice has nowhere
    to go."""
    code = invoice_contact.contact_number
    how = near_miss(code, learner.learner_number) if learner is not None else ""
    if invoice_learner is None and learner is not None and how:
        return failed(
            f"Contact Code {code!r} is {learner.label}'s RefInternal but for {how}: the "
            "integration matches it exactly, so the invoice has no learner",
            fix=f"Set {invoice_contact.name}'s Contact Code to {learner.learner_number} exactly: "
            f"run 'diagnose fix contact-code learner {learner.learner_id}'.",
            contact_code=code,
            learner_number=learner.learner_number,
            difference=how,
        )
    if invoice_learner is None:
        return failed(f"no Wisenet learner has RefInternal {code}", contact_code=code)
    return passed(f"Contact Code {code} is {invoice_learner.label}")


@check(
    "invoice.contact-merged",
    title="The invoice's contact is not archived or merged away",
    applies_to="invoice",
    requires=("invoice.type",),
    fix="""
    In Xero, restore the contact (Contacts › Archived › Restore), or, if it was merged, merge the
    other way round so the contact with the Contact Code survives.
    """,
)
def invoice_contact_merged(invoice: XeroInvoice, invoice_contact: XeroContact | None) -> Outcome:
    """An invoice left on an archived or merged-away contact does not follow the learner."""
    if invoice.type not in SALES_TYPES:
        return NOT_FOR_WISENET
    if invoice_contact is None:
        return failed(f"the contact of {invoice.number} could not be read from Xero")
    links = (xero_contact_link(invoice_contact.contact_id),)
    if invoice_contact.merged_to:
        return failed(
            f"{invoice_contact.name} was merged into contact {invoice_contact.merged_to}",
            links=(*links, xero_contact_link(invoice_contact.merged_to)),
            merged_to=invoice_contact.merged_to,
        )
    if invoice_contact.status == "ARCHIVED":
        return failed(f"{invoice_contact.name} is archived", links=links)
    return passed(  # neither archived nor merged: this check's question (GDPR is contact.active's)
        f"{invoice_contact.name} is {contact_state(invoice_contact.status)}", links=links
    )


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


@check(
    "invoice.in-wisenet",
    title="Wisenet lists the invoice on the learner's Xero Invoices tab",
    applies_to="invoice",
    requires=("invoice.status", "invoice.contact-learner"),
    fix="""
    In Wisenet open the learner › Xero Invoices and press Manual Sync (it shows while Xero is
    connected and "Sync to Xero" is ticked). If it still does not appear, use LRM › Settings ›
    Connected Apps › Xero › Resync Data for the invoice's date range.
    """,
)
def invoice_in_wisenet(
    invoice: XeroInvoice, invoice_learner: Learner, wisenet_invoices: tuple[WisenetInvoice, ...]
) -> Outcome:
    """The end of the chain: the invoice, with the same status and total, on the learner's Xero
    Invoices tab in Wisenet."""
    rows = [
        w
        for w in wisenet_invoices
        if (w.invoice_id and w.invoice_id == invoice.invoice_id)
        or (w.number and w.number == invoice.number)
    ]
    listed = [{"number": w.number, "status": w.status, "total": w.total} for w in wisenet_invoices]
    if not rows and invoice.status == "DELETED":
        return passed(  # Xero deletes only drafts and submitted invoices: never in Wisenet
            f"{invoice.number} was deleted in Xero before it was approved, so it never reached "
            "Wisenet and is not expected there",
            wisenet_invoices=listed,
        )
    if not rows:
        return failed(
            f"{invoice.number} is not on the Xero Invoices tab of learner "
            f"{invoice_learner.learner_id} "
            f"({counted(len(wisenet_invoices), 'invoice')} listed there)",
            links=_link(invoice),
            wisenet_invoices=listed,
        )
    row = rows[0]
    differences = []
    if row.status != invoice.status:
        differences.append(f"status {row.status} in Wisenet, {invoice.status} in Xero")
    if (
        row.total is not None
        and invoice.total is not None
        and abs(row.total - invoice.total) > 0.005
    ):
        differences.append(f"total {_money(row.total)} in Wisenet, {_money(invoice.total)} in Xero")
    if differences:
        return failed(
            f"{invoice.number} is out of date in Wisenet: {'; '.join(differences)}",
            links=_link(invoice),
            wisenet_invoices=listed,
        )
    return passed(
        f"{invoice.number} is listed in Wisenet as {row.status}, {_money(row.total)}",
        wisenet_invoices=listed,
    )
