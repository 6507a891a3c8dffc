"""`diagnose sandbox generate`: a realistic tenant of any size, and the truth about it.

Every learner gets a failure mode drawn at a realistic rate (most are fine), and zero to five
invoices with their own modes. The ground truth lists, for each learner and each invoice, the
checks that must fail and the ones that must warn — for tests and benchmarks of the scan.
Names are unique (first × last name pairs drawn without replacement), so no learner looks like
another.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from diagnose.msdate import to_ms_date
from diagnose.sandbox.names import FIRST, LAST
from diagnose.sandbox.tenant import FORMAT

STATES = [
    (1, "NSW", "New South Wales", "2000", "Sydney"),
    (2, "VIC", "Victoria", "3000", "Melbourne"),
    (3, "QLD", "Queensland", "4000", "Brisbane City"),
    (4, "SA", "South Australia", "5000", "Adelaide"),
    (5, "WA", "Western Australia", "6000", "Perth"),
    (6, "TAS", "Tasmania", "7000", "Hobart"),
    (7, "NT", "Northern Territory", "0800", "Darwin"),
    (8, "ACT", "Australian Capital Territory", "2601", "Canberra"),
]
LEARNER_MODES = [  # (mode, weight per thousand, fails, warns)
    ("ok", 700, [], []),
    ("unticked", 60, ["learner.sync-enabled"], []),
    ("archived", 30, ["contact.active"], []),
    ("no-surname", 20, ["learner.full-name", "contact.found"], []),
    ("no-state", 20, ["learner.address", "contact.found"], []),
    ("bad-email", 20, ["learner.email", "contact.found"], []),
    ("bad-country", 10, ["learner.field-mapping", "contact.found", "alerts.clear"], []),
    ("lost-code", 20, ["contact.found", "contact.duplicates"], []),
    ("duplicate", 20, ["contact.duplicates"], []),
    ("gdpr", 5, ["contact.active"], []),
    ("wrong-postcode", 20, [], ["learner.address"]),
    ("stale-contact", 30, [], ["contact.in-sync"]),
]
INVOICE_MODES = [
    ("ok", 910, []),
    ("draft", 30, ["invoice.status"]),
    ("submitted", 20, ["invoice.status"]),
    ("missing", 30, ["invoice.in-wisenet"]),
    ("bill", 10, ["invoice.type"]),
]
NO_CONTACT = {"no-surname", "no-state", "bad-email", "bad-country"}


def _pick(rng: random.Random, modes: list[Any]) -> Any:
    return rng.choices(modes, weights=[m[1] for m in modes])[0]


def generate(learners: int, seed: int = 1) -> tuple[dict[str, Any], dict[str, Any]]:
    """A tenant document and its ground truth."""
    surnames = sorted(set(LAST))
    single = len(FIRST) * len(surnames)
    if learners > single * (len(FIRST) + 1):
        raise ValueError("more learners than unique names")
    rng = random.Random(seed)  # noqa: S311 — sample data, not security
    ns = uuid.UUID(int=seed)
    base = datetime(2026, 1, 5, tzinfo=UTC)

    def name(code: int) -> tuple[str, str]:
        """One first name and a surname; past those, two given names (Olivia Grace)."""
        middle, rest = divmod(code, single)
        first, last = FIRST[rest // len(surnames)], surnames[rest % len(surnames)]
        return (f"{first} {FIRST[middle - 1]}" if middle else first), last

    names = [name(code) for code in rng.sample(range(single * (len(FIRST) + 1)), learners)]
    tenant_id = str(uuid.uuid5(ns, "tenant"))
    doc: dict[str, Any] = {
        "format": FORMAT,
        "name": f"Generated RTO ({learners} learners, seed {seed})",
        "wisenet": {
            "learners": [],
            "invoices": [],
            "combos": {
                "states": [
                    {"StateId": i, "Code": f"0{i}", "ShortDescription": s, "LongDescription": long}
                    for i, s, long, _, _ in STATES
                ],
                "countries": [
                    {"CountryId": 1101, "Code": "1101", "Description": "Australia"},
                    {"CountryId": 1202, "Code": "1201", "Description": "Newzealand"},
                ],
            },
            "event_alerts": [],
        },
        "xero": {
            "connections": [
                {
                    "tenantId": tenant_id,
                    "tenantName": "Generated RTO Pty Ltd",
                    "tenantType": "ORGANISATION",
                }
            ],
            "contacts": [],
            "invoices": [],
        },
    }
    truth: dict[str, Any] = {"learners": {}, "invoices": {}}
    numbers = iter(range(1, 10**9))  # invoice numbers, in order across all learners
    for index, (first, last) in enumerate(names):
        learner_id = 1000 + index
        mode, _, fails, warns = _pick(rng, LEARNER_MODES)
        learner, email = _learner(rng, learner_id, first, last, mode, base, doc)
        truth["learners"][str(learner_id)] = {"fail": sorted(fails), "warn": sorted(warns)}
        if mode in NO_CONTACT:
            continue
        contact = _contact(ns, learner, email, mode, base + timedelta(minutes=index))
        doc["xero"]["contacts"].append(contact)
        if mode == "duplicate":
            doc["xero"]["contacts"].append(
                {**contact, "ContactID": str(uuid.uuid5(ns, f"d{learner_id}")), "ContactNumber": ""}
            )
        for _ in range(rng.choice((0, 1, 2, 3, 3, 4, 4, 5, 5, 5))):
            number_text, fails_of = _invoice(
                rng, ns, next(numbers), learner_id, contact, mode, base, doc
            )
            truth["invoices"][number_text] = {"fail": fails_of, "warn": []}
    return doc, truth


def _learner(
    rng: random.Random,
    learner_id: int,
    first: str,
    last: str,
    mode: str,
    base: datetime,
    doc: dict[str, Any],
) -> tuple[dict[str, Any], str]:
    """The Wisenet learner of `mode` (added to `doc`, with its Event Alert), and its email."""
    number = f"STD{learner_id:07d}"
    state_id, state, _, postcode, suburb = rng.choice(STATES)
    email = f"{first}.{last}.{learner_id}@example.com".lower().replace(" ", ".")
    street: dict[str, Any] = {
        "StreetNumber": str(rng.randint(1, 300)),
        "StreetName": rng.choice(("High Street", "Station Road", "Church Street", "Main Road")),
        "SuburbTownCity": suburb,
        "StateId": state_id,
        "Postcode": postcode,
        "CountryId": 1101,
    }
    surname = last
    if mode == "no-surname":
        surname = ""
    elif mode == "no-state":
        street.update(StateId=None, Postcode="")
    elif mode == "bad-email":
        email = email.replace(".com", "")
    elif mode == "bad-country":  # an overseas address whose country does not map
        street.update(StateId=1, Postcode="1010", CountryId=1202, SuburbTownCity="Auckland")
    elif mode == "wrong-postcode":
        street["Postcode"] = "3690" if state != "VIC" else "2000"
    if mode == "bad-country":
        doc["wisenet"]["event_alerts"].append(
            {
                "AlertType": "Learner Sync errors",
                "AlertDetails": "NZCountry unknown",
                "RelatedRecord": number,
                "CreatedOn": "2026-11-01T00:00:00Z",
                "Acknowledged": False,
            }
        )
    personal = {
        "IsActive": True,
        "FirstName": first,
        "LastName": surname,
        "LearnerNumber": number,
        "SyncToXero": mode != "unticked",
        "EmailAddresses": {"Email": email},
        "PhoneNumbers": {"Mobile": f"+614{rng.randint(10000000, 99999999)}"},
        "StreetAddress": street,
    }
    modified = (base + timedelta(minutes=learner_id - 1000)).strftime("%Y-%m-%dT%H:%M:%S.000")
    learner = {"LearnerId": learner_id, "Personal": personal, "LastModifiedTimeStamp": modified}
    doc["wisenet"]["learners"].append(learner)
    return learner, email


def _contact(
    ns: uuid.UUID, learner: dict[str, Any], email: str, mode: str, updated: datetime
) -> dict[str, Any]:
    """The learner's Xero contact as the integration made it, spoiled as `mode` says."""
    learner_id, personal = learner["LearnerId"], learner["Personal"]
    street = personal["StreetAddress"]
    state = next(code for i, code, _, _, _ in STATES if i == street["StateId"])
    first = personal["FirstName"]
    last = personal["LastName"]
    number = personal["LearnerNumber"]
    contact: dict[str, Any] = {
        "ContactID": str(uuid.uuid5(ns, f"c{learner_id}")),
        "ContactNumber": "" if mode == "lost-code" else number,
        "ContactStatus": {"archived": "ARCHIVED", "gdpr": "GDPRREQUEST"}.get(mode, "ACTIVE"),
        "Name": f"{first} {last}",
        "FirstName": first,
        "LastName": last,
        "EmailAddress": f"old.{email}" if mode == "stale-contact" else email,
        "Addresses": [
            {
                "AddressType": "STREET",
                "AddressLine1": f"{street['StreetNumber']} {street['StreetName']}",
                "City": street["SuburbTownCity"],
                "Region": state,
                "PostalCode": _usual_postcode(street["StateId"]),
                "Country": "Australia",
            }
        ],
        "Phones": [],
        "UpdatedDateUTC": to_ms_date(updated),
    }
    if mode == "wrong-postcode":
        contact["Addresses"][0]["PostalCode"] = street["Postcode"]
    return contact


def _usual_postcode(state_id: int) -> str:
    return next(postcode for i, _, _, postcode, _ in STATES if i == state_id)


def _invoice(
    rng: random.Random,
    ns: uuid.UUID,
    invoice_number: int,
    learner_id: int,
    contact: dict[str, Any],
    mode: str,
    base: datetime,
    doc: dict[str, Any],
) -> tuple[str, list[str]]:
    """One Xero invoice of the learner's contact (and Wisenet's copy, when it syncs): its
    number, and the checks that must fail on it."""
    inv_mode, _, inv_fails = _pick(rng, INVOICE_MODES)
    inv_fails = list(inv_fails)
    status = {"draft": "DRAFT", "submitted": "SUBMITTED"}.get(
        inv_mode, rng.choice(("PAID", "AUTHORISED"))
    )
    kind = "ACCPAY" if inv_mode == "bill" else "ACCREC"
    total = float(rng.choice((450, 890, 1250, 1850, 2400)))
    number_text = f"INV-{invoice_number:06d}"
    invoice_id = str(uuid.uuid5(ns, number_text))
    when = base + timedelta(days=invoice_number % 300)
    doc["xero"]["invoices"].append(
        {
            "InvoiceID": invoice_id,
            "InvoiceNumber": number_text,
            "Type": kind,
            "Status": status,
            "Contact": {"ContactID": contact["ContactID"]},
            "Total": total,
            "AmountDue": 0.0 if status == "PAID" else total,
            "CurrencyCode": "AUD",
            "Date": to_ms_date(when),
            "UpdatedDateUTC": to_ms_date(when + timedelta(hours=2)),
            "LineItems": [
                {
                    "Description": "Course fees",
                    "Quantity": 1.0,
                    "UnitAmount": total,
                    "LineAmount": total,
                    "AccountCode": "200",
                }
            ],
        }
    )
    if mode == "archived" and kind == "ACCREC":
        inv_fails.append("invoice.contact-merged")
    if mode == "lost-code" and kind == "ACCREC":  # no code: nothing past it is decided
        inv_fails = [f for f in inv_fails if f != "invoice.in-wisenet"]
        inv_fails.append("invoice.contact-code")
    synced = kind == "ACCREC" and status not in ("DRAFT", "SUBMITTED") and inv_mode != "missing"
    if synced and mode != "lost-code":
        doc["wisenet"]["invoices"].append(
            {
                "InvoiceId": invoice_id,
                "LearnerId": learner_id,
                "InvoiceNumber": number_text,
                "Status": status,
                "AmountTotal": total,
                "UpdateDateUtc": (when + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    return number_text, sorted(set(inv_fails))
