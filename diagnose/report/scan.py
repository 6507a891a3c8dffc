"""The scan's Word report, "Sync health report": the tenant's health on the first page, then a
section a check with the records it affects, a link to each, and the fix; then the calls made.
The same template and renderer as a single diagnosis's support request.

With `redact`, no free text of a finding is written (it may name a person): each record is named
by its LearnerId or invoice number, and each check's fix is the catalogue's general one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo
from urllib.parse import unquote_plus

from diagnose import __version__
from diagnose.config import zone
from diagnose.model import ApiCall, Finding, TargetKind
from diagnose.redact import WHAT_IS_REDACTED
from diagnose.report.grouping import by_fix, records, worst, worst_first
from diagnose.report.model import Block, Report, Table, calls_table, when_text
from diagnose.report.ticket import FILL_IN, Sender
from diagnose.textsafe import counted, xml_safe

ROWS_PER_CHECK = 1000  # beyond that the CSV is the place: a Word table of thousands helps nobody
SCAN_REDACTION = (
    "Redacted: records are named by their LearnerId or invoice number only, and no finding's own "
    "words are shown (they may name a person); the fixes are the general ones."
)


def _record(f: Finding, redact: bool) -> str:
    """A record as the report names it: its label, or with `redact` its id alone."""
    if not redact:
        return f.target.label
    if f.target.kind is TargetKind.LEARNER:
        return f"learner {f.target.key}"
    return f.target.label.split(" · ")[0]  # "invoice INV-0042": invoice data is kept


def scan_report(
    findings: Sequence[Finding],
    *,
    tenant: str,
    mode: str,
    learners: int,
    invoices: int,
    calls: Sequence[ApiCall],
    taken_at: datetime,
    redact: bool = False,
    fixes: Mapping[str, str] | None = None,
    sender: Sender | None = None,
) -> Report:
    sender = sender or Sender()
    place = zone(sender.zone)
    ordered = worst_first(findings)  # in the order of the health page
    failing = [
        {
            "id": check_id,
            "status": worst(group).glyph,
            "message": xml_safe(f"{counted(records(group), 'record')}; expected: {group[0].title}"),
            "record": xml_safe(_record(group[0], redact))
            + (f" and {records(group) - 1:,} more" if records(group) > 1 else ""),
        }
        for check_id, group in ordered
    ]
    blocks = [
        Block("What is wrong", 1).add(
            xml_safe(
                f"{counted(learners, 'learner')} and {counted(invoices, 'Xero invoice')} were "
                f"checked with {counted(len(calls), 'API call')}."
            )
        )
    ]
    for check_id, group in ordered:
        title = f"{check_id}: {counted(records(group), 'record')} (expected: {group[0].title})"
        block = Block(xml_safe(title), 2)
        grouped = [(fixes.get(check_id, "") if fixes else "", group)] if redact else by_fix(group)
        for fix, same in grouped:  # records share a fix only when it is the same
            if fix:
                block.add(xml_safe(f"How to fix it: {' '.join(fix.split())}"))
            rows = [
                [
                    f.status.glyph,
                    _record(f, redact),
                    f.status.value if redact else f.message,
                    f.links[0] if f.links else "",
                ]
                for f in same[:ROWS_PER_CHECK]
            ]
            block.add(
                Table(
                    ["", "Record", "Status" if redact else "What is wrong", "Link"],
                    [[xml_safe(cell) for cell in row] for row in rows],
                    widths=(0.7, 5.2, 8.6, 2.5),
                    small=True,
                )
            )
            if len(same) > ROWS_PER_CHECK:
                block.add(f"… and {len(same) - ROWS_PER_CHECK:,} more: see the CSV (--csv FILE).")
        blocks.append(block)
    blocks += _appendix(calls, place)
    affected = len({f.target.key for _, g in ordered for f in g})
    verdict = (
        "Nothing blocks the sync anywhere in the tenant."
        if not ordered
        else f"{counted(len(ordered), 'check')} fail or warn for {counted(affected, 'record')}."
    )
    label = (
        "Sandbox (built-in sample data, not a real organisation)" if mode == "sandbox" else "Live"
    )
    checked = when_text(taken_at, place)
    requester = [(k, v or FILL_IN) for k, v in sender.staff] + [
        ("Organisation (Xero)", tenant),
        ("Wisenet site", sender.wisenet or FILL_IN),
        ("Checked", checked),
        ("Data", label),
    ]
    return Report(
        title=xml_safe(f"Sync health report: {tenant}"),
        headline=xml_safe(f"the whole tenant ({learners:,} learners, {invoices:,} invoices)"),
        organisation=xml_safe(tenant),
        subject="the whole tenant",
        checked_at=checked,
        version=__version__,
        mode=label,
        verdict=verdict,
        failing=failing,
        redaction=SCAN_REDACTION if redact else "",
        blocks=blocks,
        chain=[],
        file_stem=f"sync-health-{taken_at:%Y-%m-%d}",
        core_subject=xml_safe(f"Wisenet ↔ Xero sync health of {tenant}"),
        kind="Sync health report",
        summary=xml_safe(
            f"{counted(learners, 'learner')} and {counted(invoices, 'Xero invoice')} of {tenant} "
            f"were checked. {verdict}"
        ),
        requester=[(xml_safe(k), xml_safe(v)) for k, v in requester],
        author=sender.name,
    )


def _appendix(calls: Sequence[ApiCall], zone: tzinfo | None) -> list[Block]:
    table = calls_table(
        calls,
        lambda c: when_text(c.at, zone),
        lambda c: f"{c.method} {unquote_plus(c.path)}",
        widths=(2.6, 1.7, 4.0, 1.6, 0.9, 6.2),
    )
    return [
        Block("Appendix", 1),
        Block("API calls", 2).add(
            "Every call the scan made, in the order sent. No credential is recorded.", table
        ),
    ]


__all__ = ["WHAT_IS_REDACTED", "scan_report"]
