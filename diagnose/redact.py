"""Consistent pseudonyms for `--redact`.

Every real value registered here (a person's names, an email, a phone, a street line) gets one
pseudonym, and `apply` replaces it wherever it occurs — in tables, in messages, in decoded API
paths — so the same person reads the same everywhere in a document and nowhere by their name.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

WHAT_IS_REDACTED = (
    "Redacted: names, email addresses, phone numbers and street lines are replaced by consistent "
    "pseudonyms (the same person has the same pseudonym throughout). Suburbs, states, postcodes, "
    "Contact Codes, record ids and invoice data are kept."
)


def _letter(index: int) -> str:
    letters = string.ascii_uppercase
    return letters[index] if index < 26 else letters[index // 26 - 1] + letters[index % 26]


@dataclass
class Pseudonyms:
    enabled: bool = True
    _map: dict[str, str] = field(default_factory=dict)
    _people: dict[tuple[str, str], int] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = None

    def _add(self, real: str, pseudonym: str) -> None:
        key = real.strip().casefold()
        if len(key) >= 2 and key not in self._map:
            self._map[key] = pseudonym
            self._pattern = None

    def _next(self, kind: str) -> str:
        index = self._counts.get(kind, 0)
        self._counts[kind] = index + 1
        return _letter(index)

    def person(self, first: str, last: str, *names: str) -> None:
        """A person: first and last names, plus any display names they appear under."""
        if not self.enabled:
            return
        key = (first.strip().casefold(), last.strip().casefold())
        if key == ("", ""):
            key = ("", " ".join(names).strip().casefold())
        if key not in self._people:
            self._people[key] = len(self._people)
        letter = _letter(self._people[key])
        full = f"{first.strip()} {last.strip()}".strip()
        for name in (*names, full):
            if name.strip():
                self._add(name, f"Person {letter}")
        if first.strip():
            self._add(first, f"Given-{letter}")
        if last.strip():
            self._add(last, f"Family-{letter}")

    def email(self, value: str) -> None:
        if self.enabled and value.strip():
            self._add(value, f"email-{self._next('email').lower()}@redacted.invalid")

    def phone(self, value: str) -> None:
        if self.enabled and sum(ch.isdigit() for ch in value) >= 5:
            self._add(value, f"phone-{self._next('phone')}")

    def street(self, value: str) -> None:
        if self.enabled and value.strip():
            self._add(value, f"street line {self._next('street')}")

    def apply(self, text: str) -> str:
        if not self.enabled or not self._map or not text:
            return text
        if self._pattern is None:
            alternatives = sorted(self._map, key=len, reverse=True)
            self._pattern = re.compile(
                "|".join(rf"(?<!\w){re.escape(a)}(?!\w)" for a in alternatives), re.IGNORECASE
            )
        return self._pattern.sub(lambda m: self._map[m.group(0).casefold()], text)
