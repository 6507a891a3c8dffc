"""Evidence as a person reads it in the report: field names as labels, cells as text."""

from __future__ import annotations

from diagnose.report.model import money_text


def nested(value: object) -> bool:
    return isinstance(value, (list, dict))


def cell(value: object) -> object:
    """A table cell as a person reads it: lists as text, yes/no, amounts with two decimals, a
    dash for nothing."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return money_text(value)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value) or "—"
    return value


LABELS = {
    "contact_id": "ContactID",
    "contact_code": "Contact Code",
    "learner_number": "RefInternal",
    "learner_id": "LearnerId",
    "searched": "Contacts searched",
    "merged_to": "Merged into",
    "amount_due": "Amount due",
    "strong": "Close match",
    "matched": "Same",
    "differs": "Different",
    "stuck_invoices": "Invoices stuck on look-alike contacts",
    "contacts": "Look-alike contacts",
    "near_miss": "Contact with a near-miss code",
    "link": "Xero link",
}


def label(key: str) -> str:
    """An evidence key as a person reads it."""
    text = LABELS.get(key) or key.replace("_", " ")
    return text[:1].upper() + text[1:]
