"""The learner's Xero contact: found by its Contact Code, usable, unique, and up to date."""

from __future__ import annotations

from typing import Any

from checks.invoice import SALES_TYPES
from diagnose.api import (
    Address,
    Learner,
    Outcome,
    Resemblance,
    XeroAddress,
    XeroContact,
    XeroInvoice,
    check,
    contact_state,
    counted,
    failed,
    lookalikes,
    near_misses,
    passed,
    warned,
    xero_contact_link,
    xero_invoice_link,
)

RESTORE = (
    "In Xero open Contacts › All contacts › Archived, open {name} and choose Restore; then in "
    'Wisenet untick and re-tick "Sync to Xero" on the learner.'
)


def _brief(contact: XeroContact) -> dict[str, str]:
    return {
        "contact_id": contact.contact_id,
        "contact_code": contact.contact_number,
        "status": contact.status,
        "name": contact.name,
        "email": contact.email,
    }


@check(
    "contact.found",
    title="A Xero contact carries the learner's Contact Code",
    applies_to="learner",
    requires=("learner.found", "connection.xero"),
    fix="""
    If the learner has never reached Xero, fix the failing learner checks, then untick and re-tick
    "Sync to Xero" in Wisenet. If the learner's contact exists without the code (see
    contact.duplicates), merge that contact into the Wisenet-created one, or have the Contact Code
    set to the learner's RefInternal through the API.
    """,
)
def contact_found(
    learner: Learner, contact: XeroContact | None, candidates_if_read: tuple[XeroContact, ...]
) -> Outcome:
    """On first sync Wisenet writes the learner's RefInternal into the contact's Contact Code,
    and later matches invoices back by that code. No contact with the code means no invoice can
    come back to this learner."""
    wanted = learner.learner_number
    if not wanted:
        return failed(
            "the learner has no RefInternal, so no Xero contact can carry it as Contact Code",
            fix="Log a support request with Wisenet: every learner should have a RefInternal.",
        )
    if contact is None:
        close = near_misses(learner, candidates_if_read)
        if close:
            other, how = close[0]
            return failed(
                f"no Xero contact has Contact Code {wanted} exactly, but {other.name} "
                f"({contact_state(other.status)}) has {other.contact_number!r}: it differs in "
                f"{how}, and the integration matches the code exactly",
                fix=f"Set {other.name}'s Contact Code to {wanted} exactly: run 'diagnose fix "
                f"contact-code learner {learner.learner_id}' (Xero's screens cannot set it).",
                links=(xero_contact_link(other.contact_id),),
                contact_code=wanted,
                near_miss={**_brief(other), "difference": how},
            )
        return failed(
            f"no Xero contact has Contact Code {wanted} (archived ones included)",
            contact_code=wanted,
        )
    return passed(
        f"{contact.name} has Contact Code {contact.contact_number}",
        links=(xero_contact_link(contact.contact_id),),
        **_brief(contact),
    )


@check(
    "contact.active",
    title="The Xero contact is active",
    applies_to="learner",
    requires=("contact.found",),
    fix=RESTORE.format(name="the contact"),
)
def contact_active(contact: XeroContact, candidates_if_read: tuple[XeroContact, ...]) -> Outcome:
    """Archived contacts are read-only in Xero, so Wisenet's updates to them fail; a contact
    under a GDPR erasure request cannot be used at all."""
    links = (xero_contact_link(contact.contact_id),)
    if contact.status == "ACTIVE":
        return passed(f"{contact.name} is active", links=links, **_brief(contact))
    if contact.status == "ARCHIVED" and contact.merged_to:
        final, name = surviving(contact, candidates_if_read)
        into = f"{name} ({final})" if name else f"contact {final}"
        return failed(
            f"{contact.name} was merged into {into} and archived",
            fix="In Xero, open the surviving contact and merge it the other way (into the "
            "contact with the Contact Code), or ask for the Contact Code to be moved to the "
            'surviving contact; then re-tick "Sync to Xero" in Wisenet.',
            links=(*links, xero_contact_link(final)),
            merged_to=final,
            **_brief(contact),
        )
    if contact.status == "ARCHIVED":
        return failed(
            f"{contact.name} is archived, so Xero refuses Wisenet's updates",
            fix=RESTORE.format(name=contact.name),
            links=links,
            **_brief(contact),
        )
    if contact.status == "GDPRREQUEST":
        return failed(
            f"{contact.name} is under a GDPR erasure request and cannot be used",
            fix="Ask the Xero administrator whether the erasure request stands. If it does, the "
            "learner cannot sync to this contact; log a support request with this report.",
            links=links,
            **_brief(contact),
        )
    return warned(f"{contact.name} has an unexpected status {contact.status!r}", links=links)


def surviving(contact: XeroContact, known: tuple[XeroContact, ...]) -> tuple[str, str]:
    """Where a merge chain A → B → C ends: (C's ContactID, C's name, "" when C is not among the
    known contacts). Never an archived contact in the middle of the chain."""
    by_id = {c.contact_id: c for c in known}
    final = contact.merged_to or ""
    seen = {contact.contact_id}
    while final in by_id and by_id[final].merged_to and final not in seen:
        seen.add(final)
        final = by_id[final].merged_to or ""
    return final, by_id[final].name if final in by_id else ""


@check(
    "contact.duplicates",
    title="No look-alike Xero contact without the Contact Code",
    applies_to="learner",
    requires=("learner.found", "connection.xero"),
    fix="""
    In Xero open Contacts › All contacts, tick the look-alike contact, choose Merge, and merge it
    INTO the contact that has the learner's Contact Code, so its invoices come back to Wisenet.
    """,
)
def contact_duplicates(
    learner: Learner,
    contact: XeroContact | None,
    candidates: tuple[XeroContact, ...],
    lookalike_invoices: tuple[XeroInvoice, ...],
) -> Outcome:
    """Invoices raised on a second contact that lacks the Contact Code never reach Wisenet. This
    typically happens when finance created the person in Xero before the first sync, or when
    contacts were merged the wrong way round. Only a strong match (the same full name, and the
    same email or the same suburb and postcode) is called the learner's contact; a weaker one is
    a warning that says what matched and what did not."""
    found = lookalikes(learner, contact, candidates)
    rows = [
        {
            **_brief(c),
            "strong": how.strong,
            "matched": list(how.matched),
            "differs": list(how.differs),
        }
        for c, how in found
    ]
    stuck = stuck_invoices(lookalike_invoices, {c.contact_id for c, _ in found})
    money = _money(stuck)
    links = tuple(xero_contact_link(c.contact_id) for c, _ in found) + tuple(
        xero_invoice_link(i.invoice_id, i.type) for i in stuck
    )
    extra = {"stuck_invoices": [_invoice_row(i) for i in stuck]} if stuck else {}
    strong = [c for c, how in found if how.strong and c.status == "ACTIVE"]
    if strong:
        names = ", ".join(c.name for c in strong)
        # the others found (archived, or alike in part) are linked too: say who they are
        others = [_described(c, how) for c, how in found if c not in strong]
        also = f". Also without the Contact Code: {'; '.join(others)}" if others else ""
        lost_code = None
        if contact is None and len(strong) == 1:
            lost_code = (
                f"No contact carries the Contact Code, and {strong[0].name} matches the learner "
                "closely, so it is most likely the learner's own contact, whose code was lost "
                "(typically in a merge). Run 'diagnose fix contact-code learner "
                f"{learner.learner_id}' to set its Contact Code to {learner.learner_number} "
                "(Xero's screens cannot set it); merge any other look-alikes into it."
            )
        return failed(
            f"{counted(len(strong), 'active contact')} "
            f"{'matches' if len(strong) == 1 else 'match'} this learner closely but "
            f"{'has' if len(strong) == 1 else 'have'} no Contact "
            f"Code: {names}{also}{money}",
            fix=lost_code,
            links=links,
            contacts=rows,
            searched=len(candidates),
            **extra,
        )
    if found:
        described = "; ".join(_described(c, how) for c, how in found)
        return warned(
            f"{counted(len(found), 'contact')} without a Contact Code partly "
            f"{'resembles' if len(found) == 1 else 'resemble'} this learner, not "
            f"closely enough to be theirs: {described}{money}",
            fix="Nothing blocks sync. Check in Xero whether these are the learner's (then merge "
            "them into the contact with the Contact Code) or other people (then leave them).",
            links=links,
            contacts=rows,
            searched=len(candidates),
            **extra,
        )
    return passed(_none_alike(len(candidates)), searched=len(candidates))


def _none_alike(searched: int) -> str:
    """No look-alike among the contacts Xero's searches found, said for one, none or many."""
    if searched == 0:
        return "no contact was found by name or email: no look-alike"
    if searched == 1:
        return "the 1 contact found by name and email is not a look-alike"
    return f"none of the {searched:,} contacts found by name and email is a look-alike"


SETTLED = ("VOIDED", "DELETED")


def stuck_invoices(invoices: tuple[XeroInvoice, ...], on: set[str]) -> list[XeroInvoice]:
    """The sales invoices and credit notes raised on the contacts `on`: they never reach the
    learner's Xero Invoices tab (voided and deleted ones aside), oldest first."""
    found = [
        i
        for i in invoices
        if i.contact_id in on and i.type in SALES_TYPES and i.status not in SETTLED
    ]
    return sorted(found, key=lambda i: (str(i.date or ""), i.number))


def _invoice_row(invoice: XeroInvoice) -> dict[str, Any]:
    return {
        "number": invoice.number,
        "status": invoice.status,
        "total": invoice.total,
        "amount_due": invoice.amount_due,
        "currency": invoice.currency,
        "date": str(invoice.date or ""),
        "contact_id": invoice.contact_id,
        "link": xero_invoice_link(invoice.invoice_id, invoice.type),
    }


def _money(stuck: list[XeroInvoice]) -> str:
    """The impact in one clause: how many invoices, how much outstanding, since when."""
    if not stuck:
        return ""
    owed = sum(i.amount_due or 0.0 for i in stuck if i.type == "ACCREC" and i.status != "DRAFT")
    currency = next((f"{i.currency} " for i in stuck if i.currency), "")
    since = min((str(i.date) for i in stuck if i.date), default="")
    listed = ", ".join(
        f"{i.number} ({i.status}, {i.total:,.2f})" if i.total is not None else i.number
        for i in stuck
    )
    when = f" since {since}" if since else ""
    return (
        f". Stuck on them, never reaching Wisenet: {counted(len(stuck), 'invoice')}, "
        f"{currency}{owed:,.2f} "
        f"outstanding{when}: {listed}"
    )


def _described(contact: XeroContact, how: Resemblance) -> str:
    same = ", ".join(how.matched) or "nothing"
    other = f"; different {', '.join(how.differs)}" if how.differs else ""
    return f"{contact.name} ({contact_state(contact.status)}): same {same}{other}"


def _norm(value: str) -> str:
    return " ".join(value.split()).casefold()


def _as_written(street: Address, xero: XeroAddress | None) -> str:
    """The Xero street lines, read back as the learner's street line when they say the same:
    the integration may put the unit or building on a line of its own."""
    if xero is None:
        return ""
    lines = [line for line in (xero.line1, xero.line2) if line.strip()]
    joined = ", ".join(lines)
    parts = [p for p in (street.unit, street.building) if p.strip()]
    road = f"{street.street_number} {street.street_name}".strip()
    written = _norm(joined)
    if (
        road
        and any(_norm(line) == _norm(road) for line in lines)
        and all(_norm(p) in written for p in parts)
    ):
        return street.street_line
    return joined


@check(
    "contact.in-sync",
    title="The Xero contact matches the Wisenet learner",
    applies_to="learner",
    requires=("contact.found",),
    fix="""
    Sync runs one way, Wisenet to Xero: correct the details in Wisenet if they are wrong there,
    then untick and re-tick "Sync to Xero" so the contact is updated. Fix any other failing check
    first; an archived contact never receives updates.
    """,
)
def contact_in_sync(learner: Learner, contact: XeroContact) -> Outcome:
    """Wisenet keeps the contact up to date; when the contact's name, email or address differ from
    the learner's, updates are not arriving. (The contact's Name may be decorated by the
    integration to keep it unique, so first and last names are compared instead.)"""
    street = learner.street
    state = learner.states.get(street.state_id) if street.state_id is not None else None
    xero_street = contact.street
    pairs = [
        ("first name", learner.first_name, contact.first_name),
        ("last name", learner.last_name, contact.last_name),
        ("email", learner.email, contact.email),
    ]
    if not street.is_empty:
        pairs += [
            ("street", street.street_line, _as_written(street, xero_street)),
            ("suburb", street.suburb, xero_street.city if xero_street else ""),
            ("state", state.short if state else "", xero_street.region if xero_street else ""),
            ("postcode", street.postcode, xero_street.postal_code if xero_street else ""),
        ]
    differences = [
        {"field": name, "wisenet": ours, "xero": theirs}
        for name, ours, theirs in pairs
        if _norm(ours) != _norm(theirs)
    ]
    links = (xero_contact_link(contact.contact_id),)
    if differences:
        fields = ", ".join(d["field"] for d in differences)
        return warned(
            f"Xero has a different {fields} than Wisenet", links=links, differences=differences
        )
    return passed("name, email and street address agree", links=links)
