"""The learner's Xero contact: found by its Contact Code, usable, unique, and up to date."""

from __future__ import annotations

from diagnose.checking import Outcome, check, failed, passed, warned, xero_contact_link
from diagnose.model import Learner, XeroContact

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
def contact_found(learner: Learner, contact: XeroContact | None) -> Outcome:
    """On first sync Wisenet writes the learner's RefInternal into the contact's Contact Code,
    and later matches invoices back by that code. No contact with the code means no invoice can
    come back to this learner."""
    if not learner.learner_number:
        return failed(
            "the learner has no RefInternal, so no Xero contact can carry it as Contact Code",
            fix="Log a support request with Wisenet: every learner should have a RefInternal.",
        )
    if contact is None:
        return failed(
            f"no Xero contact has Contact Code {learner.learner_number} (archived ones included)",
            contact_code=learner.learner_number,
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
def contact_active(contact: XeroContact) -> Outcome:
    """Archived contacts are read-only in Xero, so Wisenet's updates to them fail; a contact
    under a GDPR erasure request cannot be used at all."""
    links = (xero_contact_link(contact.contact_id),)
    if contact.status == "ACTIVE":
        return passed(f"{contact.name} is active", links=links, **_brief(contact))
    if contact.status == "ARCHIVED" and contact.merged_to:
        return failed(
            f"{contact.name} was merged into contact {contact.merged_to} and archived",
            fix="In Xero, open the surviving contact and merge it the other way (into the "
            "contact with the Contact Code), or ask for the Contact Code to be moved to the "
            'surviving contact; then re-tick "Sync to Xero" in Wisenet.',
            links=(*links, xero_contact_link(contact.merged_to)),
            merged_to=contact.merged_to,
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


def _looks_like(candidate: XeroContact, learner: Learner) -> str | None:
    """Why `candidate` looks like this learner, or None."""
    full = learner.full_name.casefold()
    email = learner.email.strip().casefold()
    if email and candidate.email.strip().casefold() == email:
        return "same email"
    same_parts = (
        candidate.first_name.strip().casefold() == learner.first_name.strip().casefold()
        and candidate.last_name.strip().casefold() == learner.last_name.strip().casefold()
    )
    name = candidate.name.strip().casefold()
    if full and (same_parts or name == full or name.startswith(full + " (")):
        return "same name"
    return None


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
    learner: Learner, contact: XeroContact | None, candidates: tuple[XeroContact, ...]
) -> Outcome:
    """Invoices raised on a second contact that lacks the Contact Code never reach Wisenet. This
    typically happens when finance created the person in Xero before the first sync, or when
    contacts were merged the wrong way round."""
    own = contact.contact_id if contact else None
    lookalikes = [
        (c, why)
        for c in candidates
        if c.contact_id != own and not c.contact_number and (why := _looks_like(c, learner))
    ]
    rows = [{**_brief(c), "why": why} for c, why in lookalikes]
    links = tuple(xero_contact_link(c.contact_id) for c, _ in lookalikes)
    active = [c for c, _ in lookalikes if c.status == "ACTIVE"]
    if active:
        names = ", ".join(c.name for c in active)
        lost_code = None
        if contact is None:
            lost_code = (
                "No contact carries the Contact Code, so this is most likely the learner's own "
                "contact, whose code was lost (typically in a merge). Have its Contact Code set "
                f"to {learner.learner_number} through the API (Xero's screens cannot set it); "
                "merge any other look-alikes into it."
            )
        return failed(
            f"{len(active)} active contact(s) look like this learner but have no Contact Code: "
            f"{names}",
            fix=lost_code,
            links=links,
            contacts=rows,
            searched=len(candidates),
        )
    if lookalikes:
        return warned(
            f"{len(lookalikes)} archived contact(s) without a Contact Code look like this learner",
            fix="Nothing blocks sync; if invoices are missing in Wisenet, check whether they were "
            "raised on these archived contacts.",
            links=links,
            contacts=rows,
            searched=len(candidates),
        )
    return passed(
        f"none of the {len(candidates)} contacts found by name and email is a look-alike",
        searched=len(candidates),
    )


def _norm(value: str) -> str:
    return " ".join(value.split()).casefold()


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
            ("street", street.street_line, xero_street.line1 if xero_street else ""),
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
