"""The scan's integration-health page: counts per check, then the affected records, worst first;
and the same as one JSON document or CSV rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from diagnose import __version__
from diagnose.evidence import call_json
from diagnose.model import ApiCall, Finding, Status
from diagnose.render.text import fitted
from diagnose.report.grouping import by_fix, records, worst, worst_first
from diagnose.textsafe import counted, one_line

SHOWN_PER_CHECK = 20


def health_text(
    findings: Sequence[Finding],
    *,
    tenant: str,
    mode: str,
    learners: int,
    invoices: int,
    calls: Sequence[ApiCall],
) -> str:
    where = f"SANDBOX · {tenant} · sample data" if mode == "sandbox" else tenant
    lines = [
        *fitted(f"diagnose {__version__} · sync health of {one_line(where)}", "  "),
        *fitted(
            f"{counted(learners, 'learner')} and {counted(invoices, 'Xero invoice')} checked "
            f"with {counted(len(calls), 'API call')}",
            "  ",
        ),
        "",
    ]
    groups = worst_first(findings)
    if not groups:
        lines.append("✓ Nothing blocks the sync anywhere in the tenant.")
        return "\n".join(lines)
    for check_id, group in groups:
        glyph = worst(group).glyph
        kind = "invoice" if group[0].target.kind.value == "invoice" else "learner"
        split = [
            f"{sum(1 for f in group if f.status is s):,} {word}"
            for s, word in (
                (Status.FAIL, "fail"),
                (Status.ERROR, "undecided"),
                (Status.WARN, "warn"),
            )
            if any(f.status is s for f in group)
        ]
        many = counted(records(group), kind) + (f" ({', '.join(split)})" if len(split) > 1 else "")
        lines.append(f"  {glyph} {check_id:<24} {many}")
    for check_id, group in groups:  # the title is the condition: never shown as if it held
        lines += ["", *fitted(f"{check_id} (expected: {group[0].title})", "  ")]
        for fix, same in by_fix(group):
            if fix:
                lines += fitted(f"  Fix: {one_line(fix)}", "       ")
            for f in same[:SHOWN_PER_CHECK]:
                said = f"    {f.status.glyph} {one_line(f.target.label)}: {one_line(f.message)}"
                lines += fitted(said, "      ")
            if len(same) > SHOWN_PER_CHECK:
                lines.append(
                    f"    … and {len(same) - SHOWN_PER_CHECK:,} more (--csv FILE lists them all)"
                )
    return "\n".join(lines)


def health_json(
    findings: Sequence[Finding],
    summary: dict[str, dict[str, int]],
    *,
    tenant: str,
    mode: str,
    calls: Sequence[ApiCall],
    exit_code: int,
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "tool": {"name": "diagnose", "version": __version__},
        "kind": "scan",
        "mode": mode,
        "tenant": tenant,
        "exit_code": exit_code,
        "summary": summary,
        "findings": [
            {
                "id": f.check_id,
                "status": f.status.value,
                "title": f.title,
                "message": f.message,
                "fix": f.fix,
                "subject": {
                    "kind": f.target.kind.value,
                    "key": f.target.key,
                    "label": f.target.label,
                },
                "cause": f.cause.value if f.cause else None,
            }
            for f in findings
            if f.status.noteworthy
        ],
        "calls": [call_json(c) for c in calls],
    }


CSV_COLUMNS = ("check", "status", "subject", "key", "record", "message", "fix")


def health_csv(findings: Sequence[Finding]) -> str:
    """One row per failed, warned or undecided finding."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for f in findings:
        if f.status.noteworthy:
            writer.writerow(
                [
                    f.check_id,
                    f.status.value,
                    f.target.kind.value,
                    f.target.key,
                    f.target.label,
                    one_line(f.message),
                    one_line(f.fix or ""),
                ]
            )
    return out.getvalue()
