"""The report as plain data: tables, blocks, the chain picture, and the whole Report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from diagnose.model import ApiCall, Status
from diagnose.textsafe import xml_safe

NO_LEARNER = (
    "Not looked up: the invoice's contact has no Contact Code, so no Wisenet learner is linked."
)
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
    small: bool = False  # a smaller font, for long identifiers that must stay on one line


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


MARKING = (
    "Confidential: holds personal information of learners. For the organisation and Wisenet "
    "support only; do not forward."
)


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
    kind: str = "Support request"
    summary: str = ""
    request: list[str] = field(default_factory=list)
    requester: list[tuple[str, str]] = field(default_factory=list)
    author: str = ""  # the staff member's name, when known
    marking: str = MARKING

    def context(self) -> dict[str, Any]:
        """The values a template's Jinja placeholders may use."""
        return {
            "title": self.title,
            "kind": self.kind,
            "headline": self.headline,
            "organisation": self.organisation,
            "subject": self.subject,
            "checked_at": self.checked_at,
            "version": self.version,
            "mode": self.mode,
            "sandbox": self.mode.startswith("Sandbox"),
            "verdict": self.verdict,
            "summary": self.summary,
            "request": self.request,
            "requester": [{"label": k, "value": v} for k, v in self.requester],
            "failing": self.failing,
            "redaction": self.redaction,
            "marking": self.marking,
        }


def calls_table(
    calls: Sequence[ApiCall],
    sent: Callable[[ApiCall], str],
    request: Callable[[ApiCall], str],
    widths: Sequence[float],
) -> Table:
    """The appendix's list of API calls, one row a call, in the order sent."""
    rows = [
        [
            sent(c),
            c.service.value,
            request(c),
            str(c.status) if c.status is not None else "no answer",
            f"{c.ms:.0f}",
            c.correlation_id or "",
        ]
        for c in calls
    ]
    return Table(
        ["Sent", "Service", "Request", "Status", "ms", "Xero correlation id"],
        [[xml_safe(v) for v in row] for row in rows],
        widths=widths,
        small=True,
    )


def when_text(moment: datetime | date | None, zone: tzinfo | None = None) -> str:
    """A time in UTC, after the organisation's own time when `zone` is given
    ("2026-12-01 04:22 AEDT (2026-11-30 17:22 UTC)"); a date as it is."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
        text = utc.strftime("%Y-%m-%d %H:%M UTC")
        if zone is None:
            return text
        local = utc.astimezone(zone)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({text})"
    return moment.isoformat()


def money_text(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"
