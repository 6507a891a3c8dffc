"""The report as plain data: tables, blocks, the chain picture, and the whole Report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from diagnose.model import (
    Status,
)

NOTHING_TRIED = "nothing recorded by diagnose"
NO_LEARNER = (
    "Not looked up: the invoice's contact has no Contact Code, so no Wisenet learner is linked."
)
VERDICTS = {
    Status.PASS: "No problem found: nothing blocks the sync.",
    Status.WARN: "Nothing blocks the sync, but there are warnings.",
    Status.FAIL: "The sync is blocked.",
    Status.ERROR: "Incomplete: some checks could not be decided.",
}
STAGES = ("Wisenet learner", "Xero contact", "Xero invoice", "Wisenet Xero Invoices tab")
STAGE_CHECKS = (
    ("learner.",),
    ("contact.",),
    ("invoice.found", "invoice.type", "invoice.status", "invoice.contact-"),
    ("invoice.in-wisenet",),
)


@dataclass
class Table:
    columns: Sequence[str]
    rows: list[list[str]]
    title: str = ""
    key_value: bool = False  # a two-column "field | value" table without a header row
    widths: Sequence[float] = ()  # relative column widths; empty: let Word decide


@dataclass
class Block:
    """A heading and what stands under it, in order: paragraphs (str) and tables."""

    heading: str
    level: int = 1
    items: list[str | Table] = field(default_factory=list)
    status: Status | None = None
    chain: bool = False  # the sync-chain picture goes under this heading

    def add(self, *items: str | Table) -> Block:
        self.items.extend(items)
        return self


@dataclass
class ChainCell:
    stage: str
    status: Status | None  # None: not reached or not applicable
    note: str
    breaks_here: bool = False


@dataclass
class Report:
    title: str
    headline: str
    organisation: str
    subject: str
    checked_at: str
    version: str
    mode: str
    verdict: str
    failing: list[dict[str, str]]
    redaction: str
    blocks: list[Block]
    chain: list[list[ChainCell]]
    file_stem: str
    core_subject: str

    def context(self) -> dict[str, Any]:
        """The values a template's Jinja placeholders may use."""
        return {
            "title": self.title,
            "headline": self.headline,
            "organisation": self.organisation,
            "subject": self.subject,
            "checked_at": self.checked_at,
            "version": self.version,
            "mode": self.mode,
            "sandbox": self.mode.startswith("Sandbox"),
            "verdict": self.verdict,
            "failing": self.failing,
            "redaction": self.redaction,
        }


def when_text(moment: datetime | date | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    return moment.isoformat()


def money_text(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"
