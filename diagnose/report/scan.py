"""The scan's Word summary: the tenant's health on the first page, then a section a check with the
records it affects and the fix — the same template and renderer as a single diagnosis."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from diagnose import __version__
from diagnose.model import ApiCall, Finding
from diagnose.render.health import NOTEWORTHY, by_fix, records, worst_first
from diagnose.report.model import Block, Report, Table, when_text
from diagnose.textsafe import counted, xml_safe

ROWS_PER_CHECK = 1000  # beyond that the CSV is the place: a Word table of thousands helps nobody


def scan_report(
    findings: Sequence[Finding],
    *,
    tenant: str,
    mode: str,
    learners: int,
    invoices: int,
    calls: Sequence[ApiCall],
    taken_at: datetime,
) -> Report:
    ordered = worst_first(findings)  # in the order of the health page
    failing = [
        {
            "id": check_id,
            "status": min((f.status for f in group), key=NOTEWORTHY.index).glyph,
            "message": xml_safe(f"{counted(records(group), 'record')}; expected: {group[0].title}"),
            "tried": "—",
        }
        for check_id, group in ordered
    ]
    blocks = [
        Block("What is wrong", 1).add(
            xml_safe(
                f"{learners} learners and {invoices} Xero invoices were checked with "
                f"{len(calls)} API calls."
            )
        )
    ]
    for check_id, group in ordered:
        title = f"{check_id}: {counted(records(group), 'record')} (expected: {group[0].title})"
        block = Block(xml_safe(title), 2)
        for fix, same in by_fix(group):  # records share a fix only when it is the same
            if fix:
                block.add(xml_safe(f"How to fix it: {fix}"))
            rows = [[f.status.glyph, f.target.label, f.message] for f in same[:ROWS_PER_CHECK]]
            block.add(
                Table(
                    ["", "Record", "What is wrong"],
                    [[xml_safe(cell) for cell in row] for row in rows],
                    widths=(0.8, 6, 10.2),
                )
            )
            if len(same) > ROWS_PER_CHECK:
                block.add(f"… and {len(same) - ROWS_PER_CHECK} more: see the CSV (--csv FILE).")
        blocks.append(block)
    verdict = (
        "Nothing blocks the sync anywhere in the tenant."
        if not ordered
        else f"{counted(len(ordered), 'check')} fail or warn for "
        f"{counted(len({f.target.key for _, g in ordered for f in g}), 'record')}."
    )
    label = (
        "Sandbox (built-in sample data, not a real organisation)" if mode == "sandbox" else "Live"
    )
    return Report(
        title=xml_safe(f"Sync health: {tenant}"),
        headline=xml_safe(f"the whole tenant ({learners} learners, {invoices} invoices)"),
        organisation=xml_safe(tenant),
        subject="the whole tenant",
        checked_at=when_text(taken_at),
        version=__version__,
        mode=label,
        verdict=verdict,
        failing=failing,
        redaction="",
        blocks=blocks,
        chain=[],
        file_stem=f"sync-health-{taken_at:%Y-%m-%d}",
        core_subject=xml_safe(f"Wisenet ↔ Xero sync health of {tenant}"),
    )
