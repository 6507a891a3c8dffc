"""What the user typed after `diagnose learner` / `diagnose invoice`, made safe to look up.

A reference is classified, never trusted: it only ever travels as a path segment that we
encode, a plain query value, or a list entry, and is refused with one clear line when it
cannot be one of those safely.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from diagnose.errors import UsageError

MAX_LEARNER_ID = 2**31 - 1
GUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)  # a Xero ID


@dataclass(frozen=True)
class LearnerRef:
    kind: Literal["id", "number", "name"]
    value: str

    @property
    def learner_id(self) -> int:
        return int(self.value)

    def describe(self) -> str:
        return {"id": "LearnerId", "number": "RefInternal", "name": "name"}[self.kind]


@dataclass(frozen=True)
class InvoiceRef:
    kind: Literal["id", "number"]
    value: str


def _clean(text: str, what: str) -> str:
    value = text.strip()
    if not value:
        raise UsageError(f"the {what} is empty")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in value):
        raise UsageError(f"the {what} contains control or invisible characters")
    return value


def parse_learner_ref(text: str) -> LearnerRef:
    """A LearnerId (`123`), a RefInternal (`STD0000123`) or a name (`"Jane Citizen"`)."""
    value = _clean(text, "learner reference")
    if len(value) > 100:
        raise UsageError("the learner reference is longer than any LearnerId, RefInternal or name")
    if re.fullmatch(r"[+-]?[0-9]+", value):  # ASCII digits only: "١٠١" is not 101
        number = int(value)
        if number < 1 or number > MAX_LEARNER_ID:
            raise UsageError(f"{value} is not a LearnerId: a LearnerId is a positive whole number")
        return LearnerRef("id", str(number))
    if not any(ch.isspace() for ch in value) and any(ch.isdigit() for ch in value):
        return LearnerRef("number", value)
    if not any(ch.isalpha() for ch in value):
        raise UsageError(
            f"{value!r} is not a LearnerId, a RefInternal or a name; "
            "try 'diagnose learner 123', 'diagnose learner STD0000123' or "
            "'diagnose learner \"Jane Citizen\"'"
        )
    name = " ".join(value.split())
    last, comma, first = name.partition(",")
    if comma and "," not in first and first.strip() and last.strip():
        name = f"{first.strip()} {last.strip()}"  # "Citizen, Jane" as lists write it
    return LearnerRef("name", name)


def parse_invoice_ref(text: str) -> InvoiceRef:
    """An invoice number (`INV-0042`) or a Xero InvoiceID (a GUID)."""
    value = _clean(text, "invoice reference")
    if GUID.fullmatch(value):
        return InvoiceRef("id", value.lower())
    if len(value) > 255:
        raise UsageError("the invoice number is longer than Xero allows (255 characters)")
    if "," in value:
        raise UsageError(
            f"{value!r}: an invoice number with a comma cannot be looked up safely; "
            "use the invoice's InvoiceID instead"
        )
    return InvoiceRef("number", value)
