"""Which Xero contacts look like a learner — what `contact.duplicates` reports and the Contact
Code fix chooses among — and which carry the learner's code off by letter case or spaces (the
near miss `contact.found` names). Pure: records in, findings' facts out, for the check and the
remedy alike."""

from __future__ import annotations

from dataclasses import dataclass

from diagnose.checking import near_miss
from diagnose.model import Learner, XeroContact


@dataclass(frozen=True)
class Resemblance:
    """How far a contact looks like a learner: what matched, what did not, and whether the match
    is strong (the same full name, and the same email or the same suburb and postcode)."""

    strong: bool
    matched: tuple[str, ...]
    differs: tuple[str, ...]


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())[-9:]  # the number without its prefix


def _norm(value: str) -> str:
    return " ".join(value.split()).casefold()


def resemblance(candidate: XeroContact, learner: Learner) -> Resemblance | None:
    """None when neither the name nor the email matches. A phone or an address alone never
    makes a match: families share them."""
    first, last = learner.first_name.strip().casefold(), learner.last_name.strip().casefold()
    full = learner.full_name.casefold()
    name = candidate.name.strip().casefold()
    parts = (candidate.first_name.strip().casefold(), candidate.last_name.strip().casefold())
    same_name = bool(full) and (
        parts == (first, last) or name == full or name.startswith(full + " (")
    )
    email = learner.email.strip().casefold()
    same_email = bool(email) and candidate.email.strip().casefold() == email
    if not (same_name or same_email):
        return None
    matched: list[str] = []
    differs: list[str] = []
    if same_name:
        matched.append("name")
    else:
        shown = candidate.name or f"{candidate.first_name} {candidate.last_name}".strip()
        differs.append(f"name ({shown}, not {learner.full_name})")
    if same_email:
        matched.append("email")
    elif email or candidate.email:
        differs.append(f"email ({candidate.email or 'none'}, not {learner.email or 'none'})")
    mobile = _digits(learner.mobile)
    if mobile and mobile in {_digits(p.number) for p in candidate.phones}:
        matched.append("phone")
    street, xero = learner.street, candidate.street
    same_place = False
    if xero is not None and not street.is_empty and (xero.city or xero.postal_code):
        same_place = bool(street.postcode.strip()) and (
            _norm(street.suburb),
            street.postcode.strip(),
        ) == (_norm(xero.city), xero.postal_code.strip())
        if same_place:
            matched.append("suburb and postcode")
        else:
            differs.append(
                f"address ({xero.city} {xero.postal_code}, not {street.suburb} {street.postcode})"
            )
    return Resemblance(same_name and (same_email or same_place), tuple(matched), tuple(differs))


def lookalikes(
    learner: Learner, contact: XeroContact | None, candidates: tuple[XeroContact, ...]
) -> list[tuple[XeroContact, Resemblance]]:
    """The candidates without a Contact Code that resemble the learner, leaving out the
    learner's own contact and any merged into it (the FAQ's merge, completed)."""
    own = contact.contact_id if contact else None
    found = []
    for c in candidates:
        if c.contact_id == own or c.contact_number:
            continue  # (a code off by letter case is contact.found's to name)
        if own and c.merged_to == own:
            continue
        how = resemblance(c, learner)
        if how is not None:
            found.append((c, how))
    return found


def near_misses(
    learner: Learner, candidates: tuple[XeroContact, ...]
) -> list[tuple[XeroContact, str]]:
    """The candidates whose Contact Code is the learner's RefInternal but for letter case or
    surrounding spaces, with how it differs."""
    wanted = learner.learner_number
    return [(c, how) for c in candidates if (how := near_miss(c.contact_number, wanted))]
