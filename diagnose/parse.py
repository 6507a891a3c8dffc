"""Parsers from real API payloads to the domain model.

They are lenient about what the APIs leave out (missing keys, nulls, numbers where strings
were expected) and never raise on a record's content: a record that cannot be used at all is
reported by the caller as a bad response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from diagnose.model import (
    Address,
    Country,
    EventAlert,
    Learner,
    LineItem,
    State,
    WisenetInvoice,
    XeroAddress,
    XeroConnection,
    XeroContact,
    XeroInvoice,
    XeroPhone,
)
from diagnose.msdate import parse_date, parse_datetime

JSON = Mapping[str, Any]


def text(record: JSON, key: str) -> str:
    value = record.get(key)
    if type(value) is str:  # most values: a scan reads a million of them
        return value
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def integer(record: JSON, key: str) -> int | None:
    value = record.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def number(record: JSON, key: str) -> float | None:
    value = record.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def flag(record: JSON, key: str) -> bool:
    value = record.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y")
    return bool(value)


def obj(record: JSON, key: str) -> JSON:
    value = record.get(key)
    return value if type(value) is dict or isinstance(value, Mapping) else {}


def objects(record: JSON, key: str) -> list[JSON]:
    value = record.get(key)
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, Mapping)]


# ---------------------------------------------------------------------------------------------
# Wisenet


def unwrap(item: JSON) -> tuple[JSON, JSON]:
    """Split Wisenet's `{Data, Relationships}` envelope; a bare record is its own Data."""
    if isinstance(item.get("Data"), Mapping):
        return obj(item, "Data"), obj(item, "Relationships")
    return item, {}


def state(record: JSON) -> State | None:
    data, _ = unwrap(record)
    state_id = integer(data, "StateId")
    if state_id is None:
        return None
    return State(
        state_id, text(data, "Code"), text(data, "ShortDescription"), text(data, "LongDescription")
    )


def country(record: JSON) -> Country | None:
    data, _ = unwrap(record)
    country_id = integer(data, "CountryId")
    if country_id is None:
        return None
    return Country(country_id, text(data, "Code"), text(data, "Description"))


def address(record: JSON) -> Address:
    return Address(
        building=text(record, "BuildingName"),
        unit=text(record, "UnitDetails"),
        street_number=text(record, "StreetNumber"),
        street_name=text(record, "StreetName"),
        suburb=text(record, "SuburbTownCity"),
        state_id=integer(record, "StateId"),
        postcode=text(record, "Postcode"),
        country_id=integer(record, "CountryId"),
    )


def learner(item: JSON) -> Learner | None:
    """A learner from a `/learnersAU` item; None when it has no usable LearnerId."""
    data, relationships = unwrap(item)
    learner_id = integer(data, "LearnerId")
    if learner_id is None or not 0 < learner_id < 2**31:
        return None  # not an id Wisenet could be asked about again
    personal = obj(data, "Personal")
    states = [s for s in map(state, objects(relationships, "States")) if s]
    countries = [c for c in map(country, objects(relationships, "Countries")) if c]
    return Learner(
        learner_id=learner_id,
        learner_number=text(personal, "LearnerNumber").strip(),
        first_name=text(personal, "FirstName"),
        last_name=text(personal, "LastName"),
        email=text(obj(personal, "EmailAddresses"), "Email"),
        sync_to_xero=flag(personal, "SyncToXero"),
        is_active=flag(personal, "IsActive") if "IsActive" in personal else True,
        street=address(obj(personal, "StreetAddress")),
        postal=address(obj(personal, "PostalAddress")),
        mobile=text(obj(personal, "PhoneNumbers"), "Mobile"),
        states={s.state_id: s for s in states},
        countries={c.country_id: c for c in countries},
        updated=parse_datetime(data.get("LastModifiedTimeStamp")),
    )


def wisenet_invoice(item: JSON) -> WisenetInvoice:
    data, _ = unwrap(item)
    return WisenetInvoice(
        invoice_id=text(data, "InvoiceId"),
        learner_id=integer(data, "LearnerId"),
        number=text(data, "InvoiceNumber"),
        status=text(data, "Status").upper(),
        total=number(data, "AmountTotal"),
        amount_due=number(data, "AmountDue"),
        updated=parse_datetime(data.get("UpdateDateUtc")),
    )


def event_alert(record: JSON) -> EventAlert:
    return EventAlert(
        alert_type=text(record, "AlertType"),
        details=text(record, "AlertDetails"),
        related_record=text(record, "RelatedRecord"),
        created_on=parse_datetime(record.get("CreatedOn")),
        acknowledged=flag(record, "Acknowledged"),
    )


# ---------------------------------------------------------------------------------------------
# Xero


def connection(record: JSON) -> XeroConnection:
    return XeroConnection(
        tenant_id=text(record, "tenantId"),
        tenant_name=text(record, "tenantName"),
        tenant_type=text(record, "tenantType"),
    )


def xero_address(record: JSON) -> XeroAddress:
    return XeroAddress(
        address_type=text(record, "AddressType").upper(),
        line1=text(record, "AddressLine1"),
        line2=text(record, "AddressLine2"),
        city=text(record, "City"),
        region=text(record, "Region"),
        postal_code=text(record, "PostalCode"),
        country=text(record, "Country"),
    )


def code(stored: str) -> str:
    """A Contact Code as Xero holds it, spaces included (the integration matches it exactly);
    "" when it is only spaces."""
    return stored if stored.strip() else ""


def contact(record: JSON) -> XeroContact:
    return XeroContact(
        contact_id=text(record, "ContactID"),
        contact_number=code(text(record, "ContactNumber")),
        status=text(record, "ContactStatus").upper() or "ACTIVE",
        name=text(record, "Name"),
        first_name=text(record, "FirstName"),
        last_name=text(record, "LastName"),
        email=text(record, "EmailAddress"),
        addresses=tuple(xero_address(a) for a in objects(record, "Addresses")),
        phones=tuple(
            XeroPhone(
                text(p, "PhoneType"),
                text(p, "PhoneNumber"),
                text(p, "PhoneAreaCode"),
                text(p, "PhoneCountryCode"),
            )
            for p in objects(record, "Phones")
        ),
        merged_to=text(record, "MergedToContactID") or None,
        updated=parse_datetime(record.get("UpdatedDateUTC")),
    )


def invoice(record: JSON) -> XeroInvoice:
    contact_summary = obj(record, "Contact")
    return XeroInvoice(
        invoice_id=text(record, "InvoiceID"),
        number=text(record, "InvoiceNumber"),
        type=text(record, "Type").upper(),
        status=text(record, "Status").upper(),
        contact_id=text(contact_summary, "ContactID"),
        contact_name=text(contact_summary, "Name"),
        contact_number=(
            code(text(contact_summary, "ContactNumber"))
            if "ContactNumber" in contact_summary
            else None
        ),
        total=number(record, "Total"),
        amount_due=number(record, "AmountDue"),
        amount_paid=number(record, "AmountPaid"),
        currency=text(record, "CurrencyCode"),
        reference=text(record, "Reference"),
        date=parse_date(record.get("Date")),
        due_date=parse_date(record.get("DueDate")),
        updated=parse_datetime(record.get("UpdatedDateUTC")),
        line_items=tuple(
            LineItem(
                description=text(li, "Description"),
                quantity=number(li, "Quantity"),
                unit_amount=number(li, "UnitAmount"),
                line_amount=number(li, "LineAmount"),
                account_code=text(li, "AccountCode"),
                item_code=text(li, "ItemCode"),
            )
            for li in objects(record, "LineItems")
        ),
    )
