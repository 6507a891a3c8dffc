"""Wisenet → Xero: is the learner complete and ticked for sync? (FAQ: "Sync is not working from
Wisenet to Xero".)"""

from __future__ import annotations

import difflib
import re
from functools import cache
from typing import Any

from email_validator import EmailNotValidError, validate_email

from checks.au import STATE_NAMES, state_code, states_for_postcode
from diagnose.api import (
    Address,
    EventAlert,
    Evidence,
    Learner,
    Outcome,
    check,
    failed,
    passed,
    warned,
)

EDIT_PERSONAL = "In Wisenet open the learner › Personal Details › Action › Edit Personal"

XERO_NAME_MAX = 255  # the longest first or last name a Xero contact takes


@check(
    "learner.found",
    title="The learner exists in Wisenet",
    applies_to="learner",
    requires=("connection.wisenet",),
    fix="""
    Check the reference: a LearnerId is the number in the learner's Wisenet address bar, a
    RefInternal looks like STD0000123. Search LRM › Learners to find the right one.
    """,
)
def learner_found(learner: Learner | None, evidence: Evidence) -> Outcome:
    """Everything else is checked against the Wisenet learner record, so it must be found first."""
    if learner is None:
        return failed(f"no Wisenet learner matches {evidence.subject.ref!r}")
    return passed(f"found {learner.label}", learner_id=learner.learner_id)


@check(
    "learner.sync-enabled",
    title='"Sync to Xero" is ticked',
    applies_to="learner",
    requires=("learner.found",),
    fix=f"""
    {EDIT_PERSONAL}, tick "Sync to Xero" and Save. If it was already ticked, untick it, Save,
    tick it again and Save: the integration then starts over for this learner.
    """,
)
def learner_sync_enabled(learner: Learner) -> Outcome:
    """Wisenet only sends a learner to Xero while the learner's "Sync to Xero" box is ticked."""
    if not learner.sync_to_xero:
        return failed('"Sync to Xero" is not ticked, so Wisenet does not send this learner')
    return passed('"Sync to Xero" is ticked')


@check(
    "learner.full-name",
    title="First name and surname are filled in",
    applies_to="learner",
    requires=("learner.found",),
    fix=f"{EDIT_PERSONAL}, fill in both First Name and Last Name, and Save.",
)
def learner_full_name(learner: Learner) -> Outcome:
    """Xero needs a first name and a surname to create the contact; a blank one stops the sync."""
    missing = [
        label
        for label, value in (("first name", learner.first_name), ("surname", learner.last_name))
        if not value.strip()
    ]
    if missing:
        return failed(f"the learner has no {' and no '.join(missing)}")
    too_long = [
        f"{label} is {len(value.strip())} characters"
        for label, value in (("first name", learner.first_name), ("surname", learner.last_name))
        if len(value.strip()) > XERO_NAME_MAX
    ]
    if too_long:
        return failed(
            f"the {' and the '.join(too_long)}; Xero takes at most {XERO_NAME_MAX}",
            fix=f"{EDIT_PERSONAL}, shorten the name to what the learner uses, and Save.",
        )
    return passed(f"{learner.full_name}")


def _state(learner: Learner, address: Address) -> str | None:
    if address.state_id is None:
        return None
    state = learner.states.get(address.state_id)
    return state.short if state else None


def _country(learner: Learner, address: Address) -> str | None:
    if address.country_id is None:
        return None
    country = learner.countries.get(address.country_id)
    return country.description if country else None


def _is_australian(learner: Learner, address: Address) -> bool:
    country = _country(learner, address)
    return country is None or country.strip().casefold() == "australia"


@check(
    "learner.address",
    title="Street address has a street, suburb, state and postcode",
    applies_to="learner",
    requires=("learner.found",),
    fix=f"""
    {EDIT_PERSONAL}, complete the Street Address (street, suburb/town, state and postcode), and
    Save.
    """,
)
def learner_address(learner: Learner) -> Outcome:
    """Xero receives the learner's street address; without a street, suburb, state and postcode
    Wisenet does not send the learner at all. For Australian addresses the postcode must be four
    digits (0-9) and should lie in the state's range."""
    address = learner.street
    state = _state(learner, address)
    shown: dict[str, Any] = {
        "street": address.street_line,
        "suburb": address.suburb,
        "state": state or "",
        "postcode": address.postcode,
    }
    missing = [
        name
        for name, present in (
            ("street", address.street_line.strip()),
            ("suburb/town", address.suburb.strip()),
            ("state", address.state_id is not None),
            ("postcode", address.postcode.strip()),
        )
        if not present
    ]
    if missing:
        return failed(f"the street address has no {', no '.join(missing)}", **shown)
    if not _is_australian(learner, address):
        return passed("overseas street address is complete", **shown)
    code = state_code(state or "")
    if code is None:
        return failed(
            f"state {state or f'#{address.state_id}'} is not an Australian state or territory",
            **shown,
        )
    postcode = address.postcode.strip()
    if not re.fullmatch(r"[0-9]{4}", postcode):  # ASCII digits: Xero and the ATO read no others
        return failed(f"postcode {postcode!r} is not four digits (0-9)", **shown)
    if code not in states_for_postcode(postcode):
        expected = ", ".join(states_for_postcode(postcode)) or "no state"
        return warned(
            f"postcode {postcode} belongs to {expected}, not {code}",
            fix=f"{EDIT_PERSONAL} and check the state and postcode (border towns are an "
            "exception: if the address is right, nothing needs to change).",
            **shown,
        )
    return passed(f"{address.suburb} {code} {postcode}", **shown)


@check(
    "learner.email",
    title="Email address is valid",
    applies_to="learner",
    requires=("learner.found",),
    fix=f"{EDIT_PERSONAL}, correct the Email address, and Save.",
)
def learner_email(learner: Learner) -> Outcome:
    """Xero rejects a contact whose email is not a valid address ("Email address must be
    valid"). Only the form is checked here; nothing is sent and no DNS is asked."""
    email = learner.email.strip()
    if not email:
        return failed("the learner has no email address")
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return failed(f"{email!r} is not a valid email address: {exc}", email=email)
    return passed(email, email=email)


@cache
def xero_country_names() -> frozenset[str]:
    """Country names Xero accepts on an address: the ISO 3166 names and their common forms."""
    import pycountry  # a 40 ms load, paid only when this check runs

    names: set[str] = set()
    for entry in pycountry.countries:
        names.add(entry.name)
        common = getattr(entry, "common_name", None)
        if common:
            names.add(common)
    return frozenset(names)


def suggest(value: str, accepted: frozenset[str] | set[str]) -> str | None:
    folded = " ".join(value.split()).casefold()
    for name in accepted:
        if name.casefold() == folded or name.casefold().replace(" ", "") == folded.replace(" ", ""):
            return name
    close = difflib.get_close_matches(value.strip(), sorted(accepted), n=1, cutoff=0.75)
    return close[0] if close else None


def _alerts_for(learner: Learner, alerts: tuple[EventAlert, ...] | None) -> list[str]:
    if not alerts:
        return []
    names = {learner.learner_number.casefold(), learner.full_name.casefold()}
    return [
        a.details
        for a in alerts
        if a.related_record.strip().casefold() in names and "unknown" in a.details.casefold()
    ]


@check(
    "learner.field-mapping",
    title="Drop-down values map exactly to Xero",
    applies_to="learner",
    requires=("learner.found",),
    fix="""
    In Wisenet, correct the drop-down value (LRM › Settings › Drop-down lists) so its description
    is exactly what Xero holds, or pick the right value on the learner (Edit Personal); then
    re-tick "Sync to Xero".
    """,
)
def learner_field_mapping(learner: Learner, alerts: tuple[EventAlert, ...] | None) -> Outcome:
    """The sync sends the description of each drop-down (state, country) and Xero accepts only
    an exact match; anything else is refused with an Event Alert such as "NZCountry unknown"."""
    problems: list[str] = []
    address = learner.street
    mapped: dict[str, Any] = {}
    if address.state_id is not None:
        state = learner.states.get(address.state_id)
        if state is None:
            problems.append(f"StateId {address.state_id} is not in Wisenet's States list")
        else:
            mapped["state"] = state.short
            if _is_australian(learner, address) and state.short not in STATE_NAMES:
                hint = state_code(state.short) or suggest(state.short, set(STATE_NAMES))
                problems.append(
                    f"state {state.short!r} is not a state Xero knows"
                    + (f" (did you mean {hint!r}?)" if hint else "")
                )
    if address.country_id is not None:
        country = learner.countries.get(address.country_id)
        if country is None:
            problems.append(f"CountryId {address.country_id} is not in Wisenet's Countries list")
        else:
            mapped["country"] = country.description
            if country.description not in xero_country_names():
                hint = suggest(country.description, xero_country_names())
                problems.append(
                    f"country {country.description!r} is unknown to Xero"
                    + (f" (did you mean {hint!r}?)" if hint else "")
                )
    related = _alerts_for(learner, alerts)
    if problems:
        explains = f"; this explains the Event Alert {related[0]!r}" if related else ""
        return failed("; ".join(problems) + explains, alerts=related, **mapped)
    return passed("state and country map exactly", **mapped)
