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
from diagnose.sandbox.tenant import FORMAT

FIRST = [
    "Olivia",
    "Liam",
    "Mia",
    "Noah",
    "Ava",
    "Ethan",
    "Isla",
    "Jack",
    "Grace",
    "Leo",
    "Zoe",
    "Henry",
    "Ruby",
    "Lucas",
    "Chloe",
    "Oliver",
    "Amelia",
    "James",
    "Harper",
    "William",
    "Charlotte",
    "Thomas",
    "Sophie",
    "Lachlan",
    "Ella",
    "Cooper",
    "Aria",
    "Hudson",
    "Willow",
    "Archer",
    "Matilda",
    "Harrison",
    "Evie",
    "Oscar",
    "Sienna",
    "Hunter",
    "Ivy",
    "Max",
    "Freya",
    "Levi",
    "Layla",
    "Xavier",
    "Zara",
    "Mason",
    "Hazel",
    "Ryan",
    "Aisha",
    "Daniel",
    "Priya",
    "Arjun",
    "Mei",
    "Wei",
    "Hana",
    "Kai",
    "Tane",
    "Aroha",
    "Nikau",
    "Mere",
    "Wiremu",
    "Anahera",
    "Sione",
    "Losa",
    "Tevita",
    "Malia",
    "Fatima",
    "Omar",
    "Yusuf",
    "Layan",
    "Sara",
    "Ali",
    "Nina",
    "Luca",
    "Marco",
    "Giulia",
    "Elena",
    "Ivan",
    "Olga",
    "Sofia",
    "Mateo",
    "Camila",
    "Diego",
    "Lucia",
    "Hugo",
    "Ines",
    "Emil",
    "Astrid",
    "Lars",
    "Maja",
    "Finn",
    "Nora",
    "Sean",
    "Aoife",
    "Cian",
]
LAST = [
    "Smith",
    "Jones",
    "Williams",
    "Brown",
    "Wilson",
    "Taylor",
    "Johnson",
    "White",
    "Martin",
    "Anderson",
    "Thompson",
    "Nguyen",
    "Thomas",
    "Walker",
    "Harris",
    "Lee",
    "Ryan",
    "Robinson",
    "Kelly",
    "King",
    "Davis",
    "Wright",
    "Evans",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Singh",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Tran",
    "Pham",
    "Le",
    "Kaur",
    "Sharma",
    "Gupta",
    "Ngata",
    "Tipene",
    "Parata",
    "Walker",
    "Rangi",
    "Tuhiwai",
    "Faleolo",
    "Tuilagi",
    "Havili",
    "Fonua",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "Colombo",
    "Ricci",
    "Marino",
    "Greco",
    "Bruno",
    "Gallo",
    "Conti",
    "Costa",
    "Giordano",
    "Mancini",
    "Rizzo",
    "Lombardi",
    "Moretti",
    "Murphy",
    "Byrne",
    "Doyle",
    "Walsh",
    "OConnor",
    "McCarthy",
    "Gallagher",
    "Kennedy",
    "Lynch",
    "Murray",
    "Quinn",
    "Moore",
    "Young",
    "Scott",
    "Mitchell",
    "Campbell",
    "Stewart",
    "Morris",
    "Bell",
    "Cook",
    "Murray",
    "Reid",
    "Hughes",
    "Price",
    "Edwards",
    "Collins",
    "Baker",
    "Adams",
    "Carter",
    "Phillips",
    "Turner",
    "Parker",
    "Evans",
    "Morgan",
    "Cooper",
    "Howard",
    "Ward",
]
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
    invoice_number = 0
    for index, (first, last) in enumerate(names):
        learner_id = 1000 + index
        number = f"STD{learner_id:07d}"
        mode, _, fails, warns = _pick(rng, LEARNER_MODES)
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
        modified = (base + timedelta(minutes=index)).strftime("%Y-%m-%dT%H:%M:%S.000")
        doc["wisenet"]["learners"].append(
            {"LearnerId": learner_id, "Personal": personal, "LastModifiedTimeStamp": modified}
        )
        truth["learners"][str(learner_id)] = {"fail": sorted(fails), "warn": sorted(warns)}
        if mode in NO_CONTACT:
            continue
        line1 = f"{street['StreetNumber']} {street['StreetName']}"
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
                    "AddressLine1": line1,
                    "City": suburb,
                    "Region": state,
                    "PostalCode": postcode,
                    "Country": "Australia",
                }
            ],
            "Phones": [],
            "UpdatedDateUTC": to_ms_date(base + timedelta(minutes=index)),
        }
        if mode == "wrong-postcode":
            contact["Addresses"][0]["PostalCode"] = street["Postcode"]
        doc["xero"]["contacts"].append(contact)
        if mode == "duplicate":
            doc["xero"]["contacts"].append(
                {**contact, "ContactID": str(uuid.uuid5(ns, f"d{learner_id}")), "ContactNumber": ""}
            )
        for _ in range(rng.choice((0, 1, 2, 3, 3, 4, 4, 5, 5, 5))):
            invoice_number += 1
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
            synced = (
                kind == "ACCREC" and status not in ("DRAFT", "SUBMITTED") and inv_mode != "missing"
            )
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
            truth["invoices"][number_text] = {"fail": sorted(set(inv_fails)), "warn": []}
    return doc, truth
