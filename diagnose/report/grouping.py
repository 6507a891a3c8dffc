"""The scan's findings as its pages show them — the text page, the JSON, the Word summary:
grouped by check, the worst first, then by fix."""

from __future__ import annotations

from collections.abc import Sequence

from diagnose.model import Finding, Status


def worst(group: Sequence[Finding]) -> Status:
    """The most severe status of a group of findings."""
    return max((f.status for f in group), key=lambda s: s.severity, default=Status.PASS)


def worst_first(findings: Sequence[Finding]) -> list[tuple[str, list[Finding]]]:
    """The noteworthy findings by check: the worst status first, then the most records."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        if f.status.noteworthy:
            groups.setdefault(f.check_id, []).append(f)
    return sorted(groups.items(), key=lambda item: (-worst(item[1]).severity, -len(item[1])))


def by_fix(group: Sequence[Finding]) -> list[tuple[str, list[Finding]]]:
    """A check's findings grouped by their fix, in order: records share a fix only when it is
    the same text (an archived contact's and a GDPR contact's differ)."""
    fixes: dict[str, list[Finding]] = {}
    for f in group:
        fixes.setdefault(" ".join((f.fix or "").split()), []).append(f)
    return list(fixes.items())


def records(group: Sequence[Finding]) -> int:
    """How many records (learners or invoices) a group of findings is about."""
    return len({f.target.key for f in group})
