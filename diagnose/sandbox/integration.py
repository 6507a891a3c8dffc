"""What the real Wisenet → Xero integration does when a learner is ticked for sync, played out
on a sandbox tenant: create or update the Xero contact carrying the learner's RefInternal as its
Contact Code, or — when the learner cannot sync — raise the Event Alert the integration would.

Deliberately independent of the check catalogue, so the checks are tested against it rather
than against themselves.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from diagnose.msdate import to_ms_date
from diagnose.sandbox.tenant import Record, Tenant

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
ARCHIVED = (
    "The contact with the specified contact details has been archived. The contact must be "
    "un-archived before it can be updated."
)


def _accepted_countries() -> set[str]:
    import pycountry

    names: set[str] = set()
    for entry in pycountry.countries:
        names.add(entry.name)
        if getattr(entry, "common_name", None):
            names.add(entry.common_name)
    return names


def _problems(tenant: Tenant, personal: dict[str, Any]) -> list[str]:
    problems = []
    for key in ("FirstName", "LastName"):
        if not str(personal.get(key) or "").strip():
            problems.append(f"{key} is required")
    street = personal.get("StreetAddress") or {}
    if not (street.get("SuburbTownCity") and street.get("StateId") and street.get("Postcode")):
        problems.append("StreetAddress requires a suburb, a state and a postcode")
    email = str((personal.get("EmailAddresses") or {}).get("Email") or "").strip()
    if not EMAIL.fullmatch(email):
        problems.append("Email address must be valid.")
    countries = {c.get("CountryId"): str(c.get("Description", "")) for c in tenant.countries}
    country = countries.get(street.get("CountryId"))
    if country is not None and country not in _accepted_countries():
        problems.append(
            "NZCountry unknown" if "zealand" in country.casefold() else "Country unknown"
        )
    return problems


def _contact_fields(tenant: Tenant, personal: dict[str, Any]) -> Record:
    street = personal.get("StreetAddress") or {}
    states = {s.get("StateId"): s.get("ShortDescription", "") for s in tenant.states}
    countries = {c.get("CountryId"): c.get("Description", "") for c in tenant.countries}
    road = f"{street.get('StreetNumber') or ''} {street.get('StreetName') or ''}".strip()
    place = ", ".join(
        str(street.get(k)).strip() for k in ("UnitDetails", "BuildingName") if street.get(k)
    )
    line1, line2 = (place, road) if place else (road, "")
    first, last = str(personal.get("FirstName", "")), str(personal.get("LastName", ""))
    return {
        "FirstName": first,
        "LastName": last,
        "EmailAddress": str((personal.get("EmailAddresses") or {}).get("Email") or ""),
        "Addresses": [
            {
                "AddressType": "POBOX",
                "AddressLine1": "",
                "City": "",
                "Region": "",
                "PostalCode": "",
                "Country": "",
                "AttentionTo": "",
            },
            {
                "AddressType": "STREET",
                "AddressLine1": line1,
                "AddressLine2": line2,
                "City": street.get("SuburbTownCity") or "",
                "Region": states.get(street.get("StateId"), ""),
                "PostalCode": street.get("Postcode") or "",
                "Country": countries.get(street.get("CountryId"), ""),
                "AttentionTo": "",
            },
        ],
        "Name": f"{first} {last}".strip(),
    }


def _alert(tenant: Tenant, number: str, details: str, now: datetime) -> None:
    if tenant.event_alerts is None:
        tenant.event_alerts = []
    for alert in tenant.event_alerts:
        same = alert.get("RelatedRecord") == number and alert.get("AlertDetails") == details
        if same and not alert.get("Acknowledged"):
            return  # the same open alert is not raised twice
    tenant.event_alerts.append(
        {
            "AlertType": "Learner Sync errors",
            "AlertDetails": details,
            "RelatedRecord": number,
            "CreatedOn": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Acknowledged": False,
        }
    )


def sync_learner(tenant: Tenant, learner: Record) -> str:
    """Play the integration for one ticked learner; says what happened."""
    now = datetime.now(UTC)
    personal = learner.get("Personal") or {}
    number = str(personal.get("LearnerNumber") or "")
    problems = _problems(tenant, personal)
    contact = next((c for c in tenant.contacts if c.get("ContactNumber") == number), None)
    if contact is not None and contact.get("ContactStatus") in ("ARCHIVED", "GDPRREQUEST"):
        problems.append(ARCHIVED)
    if problems:
        for problem in problems:
            _alert(tenant, number, problem, now)
        return "alert: " + "; ".join(problems)
    fields = _contact_fields(tenant, personal)
    if contact is not None:
        name = fields.pop("Name")
        contact.update(fields)
        if not contact.get("Name"):
            contact["Name"] = name
        contact["UpdatedDateUTC"] = to_ms_date(now)
        return f"updated contact {contact['ContactID']}"
    name = fields["Name"]
    if any(c.get("Name") == name and c.get("ContactStatus") == "ACTIVE" for c in tenant.contacts):
        fields["Name"] = f"{name} ({number})"  # Xero contact names must be unique
    created = {
        "ContactID": str(uuid.uuid4()),
        "ContactNumber": number,
        "ContactStatus": "ACTIVE",
        **fields,
        "Phones": [],
        "UpdatedDateUTC": to_ms_date(now),
        "IsSupplier": False,
        "IsCustomer": False,
        "HasValidationErrors": False,
    }
    tenant.contacts.append(created)
    return f"created contact {created['ContactID']}"
