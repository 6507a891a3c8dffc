"""The support-request report as plain data: what goes in the Word document, in order.

Built from a Diagnosis and its Evidence — nothing is fetched. Personal data is allow-listed:
only the fields support needs are copied out of the payloads (never date of birth, USI, tax
file, Medicare or passport numbers), and with `redact` every name, email, phone and street line
is replaced by a consistent pseudonym. Every string is made XML-safe here, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from diagnose import __version__
from diagnose.evidence import Evidence
from diagnose.model import VERDICTS, Diagnosis, Finding, Status, TargetKind, verdict_of
from diagnose.redact import WHAT_IS_REDACTED
from diagnose.report.model import (
    STAGE_CHECKS,
    STAGES,
    Block,
    ChainCell,
    Report,
    Table,
)
from diagnose.report.sections import Sections
from diagnose.report.ticket import FILL_IN, Sender, affected, request, summary

__all__ = ["Block", "ChainCell", "Report", "Sender", "Table", "build_report"]


class _Builder(Sections):
    def chain(self) -> list[list[ChainCell]]:
        by_target: dict[str, list[Finding]] = {}
        for f in self.d.findings:
            by_target.setdefault(f.target.key, []).append(f)
        learner_side = [f for f in self.d.findings if f.target.kind is TargetKind.LEARNER]
        invoice_keys = list(
            dict.fromkeys(
                f.target.key for f in self.d.findings if f.target.kind is TargetKind.INVOICE
            )
        )
        rows = []
        for key in invoice_keys or [""]:
            findings = learner_side + by_target.get(key, [])
            label = next((f.target.label for f in by_target.get(key, [])), "no invoice")
            rows.append(self._chain_row(findings, label))
        return rows

    def _chain_row(self, findings: list[Finding], invoice_label: str) -> list[ChainCell]:
        cells: list[ChainCell] = []
        broken = False
        for stage, prefixes in zip(STAGES, STAGE_CHECKS, strict=True):
            mine = [f for f in findings if f.check_id.startswith(prefixes)]
            decided = [f for f in mine if f.status is not Status.SKIP]
            if not decided:
                cells.append(ChainCell(stage, None, "not reached" if broken else "not checked"))
                continue
            worst = verdict_of(f.status for f in decided)
            bad = (
                [f.check_id for f in decided if f.status is worst]
                if worst is not Status.PASS
                else []
            )
            note = {
                Status.PASS: "ok",
                Status.WARN: "warning",
                Status.FAIL: "broken",
                Status.ERROR: "unknown",
            }[worst]
            if stage == "Xero invoice":
                note = f"{invoice_label}: {note}"
            if bad:
                note += ": " + ", ".join(bad)
            first_break = worst in (Status.FAIL, Status.ERROR) and not broken
            broken = broken or first_break
            cells.append(ChainCell(stage, worst, self.safe(note), breaks_here=first_break))
        return cells

    # -- the whole report -----------------------------------------------------------------------

    def build(self, snapshot: str = "") -> Report:
        d = self.d
        noteworthy = [f for f in d.findings if f.status in (Status.FAIL, Status.WARN, Status.ERROR)]
        failing = [
            {
                "id": f.check_id,
                "status": f.status.glyph,
                "message": self.safe(f.message),
                "record": self.safe(f.target.label),
            }
            for f in noteworthy
        ]
        blocks = [Block("What is wrong", 1)]
        blocks += [self.finding_block(f) for f in noteworthy] or [
            Block("Nothing to fix", 2).add("Every check passed or did not apply.")
        ]
        blocks.append(self.timeline())
        blocks.append(Block("Evidence", 1))
        blocks += [
            self.contact_search(),
            self.contact_details(),
            self.invoices(),
            self.learner(),
            self.wisenet_invoices(),
        ]
        alerts = self.event_alerts()
        if alerts is not None:
            blocks.append(alerts)
        blocks.append(
            Block("Sync chain", 1, chain=True).add(
                "Where the chain Wisenet learner → Xero contact → Xero invoice → Wisenet Xero "
                "Invoices tab stops: “stops here” marks the first broken link, one row per invoice."
            )
        )
        blocks += self.appendix(snapshot)
        headline = self.safe(self._headline())
        checked = self.when(d.taken_at)
        return Report(
            title=f"Support request: {headline}",
            headline=headline,
            organisation=self.safe(d.tenant),
            subject=self.safe(f"{d.subject.kind} {d.subject.ref}"),
            checked_at=checked,
            version=__version__,
            mode=self.mode(),
            verdict=VERDICTS.get(d.status, ""),
            failing=failing,
            redaction=WHAT_IS_REDACTED if self.redact else "",
            blocks=blocks,
            chain=self.chain(),
            file_stem=self._file_stem(),
            core_subject=self.safe(f"Wisenet ↔ Xero sync: {d.subject.kind} {d.subject.ref}"),
            summary=self.safe(summary(d, affected(d, self.e), self._headline())),
            request=[self.safe(line) for line in request(d)],
            requester=self.requester(checked),
            author=self.sender.name,
        )

    def _headline(self) -> str:
        """An invoice's document is titled by the invoice (the diagnosis's headline)."""
        return self.d.headline

    def requester(self, checked: str) -> list[tuple[str, str]]:
        """Who asks and about which organisation; blanks to fill in where nothing is known."""
        rows = [(label, value or FILL_IN) for label, value in self.sender.staff] or [
            ("Name", FILL_IN)
        ]
        rows += [
            ("Organisation (Xero)", self.safe(self.d.tenant)),
            ("Wisenet site", self.safe(self.sender.wisenet) or FILL_IN),
            ("Xero short code", FILL_IN),
            ("Ticket reference", FILL_IN),
            ("Priority", FILL_IN),
            ("Checked", checked),
            ("Data", self.mode()),
        ]
        return [(label, self.safe(value)) for label, value in rows]

    def _file_stem(self) -> str:
        learner, _ = self.get(lambda: self.e.learner)
        subject = self.d.subject
        key = (
            str(learner.learner_id) if subject.kind.value == "learner" and learner else subject.ref
        )
        if self.redact and subject.kind.value == "learner" and not learner:
            key = "redacted"
        slug = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in key)[:60].strip("-.")
        return (
            f"support-request-{subject.kind.value}-{slug or 'subject'}-{self.d.taken_at:%Y-%m-%d}"
        )


def build_report(
    diagnosis: Diagnosis,
    evidence: Evidence,
    *,
    redact: bool = False,
    remedies: Sequence[Mapping[str, Any]] = (),
    sender: Sender | None = None,
    snapshot: str = "",
) -> Report:
    """`remedies`: audit-log entries; those about this diagnosis's learner go in the timeline.
    `sender`: who asks, from where; `snapshot`: the SHA-256 of the `--save` file, if one was
    made."""
    return _Builder(diagnosis, evidence, redact, remedies, sender).build(snapshot)
