"""The diagnosis commands: `learner`, `invoice`, `replay`, `tui` and `checks` — what they ask
of the core, and how their results are shown and written."""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from diagnose.cli.options import (
    AlertsOpt,
    JsonOpt,
    OnlyOpt,
    ProfileOpt,
    RedactOpt,
    ReportOpt,
    SandboxOpt,
    SaveOpt,
    TemplateOpt,
    VerboseOpt,
)
from diagnose.errors import DiagnoseError, UsageError, findings_exit_code
from diagnose.textsafe import json_text

if TYPE_CHECKING:
    from diagnose.evidence import RawEvidence
    from diagnose.model import Diagnosis, SubjectKind
    from diagnose.report import Sender


def _split(only: list[str] | None) -> list[str]:
    return [part.strip() for item in only or [] for part in item.split(",") if part.strip()]


def _show(
    diagnosis: Diagnosis,
    *,
    as_json: bool,
    verbose: bool,
    elapsed: float | None,
    redact: RawEvidence | None = None,
) -> None:
    """Print the diagnosis; with `redact` (its evidence), every person pseudonymised."""
    code = findings_exit_code(diagnosis.findings)
    if as_json:
        from diagnose.render.jsondoc import diagnosis_json

        document: Any = diagnosis_json(diagnosis, code)
        if redact is not None:
            document = _pseudonymised(document, diagnosis, redact)
        typer.echo(json_text(document))
    else:
        from diagnose.render.text import diagnosis_text

        text = diagnosis_text(diagnosis, verbose=verbose, elapsed=elapsed)
        typer.echo(_pseudonymised(text, diagnosis, redact) if redact is not None else text)
    raise typer.Exit(int(code))


def _pseudonymised(document: Any, diagnosis: Diagnosis, raw: RawEvidence) -> Any:
    """The same pseudonyms as the --redact report, in every string (API paths decoded first)."""
    from urllib.parse import unquote

    from diagnose.evidence import Evidence
    from diagnose.report.context import pseudonyms

    people = pseudonyms(diagnosis, Evidence(raw))

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return people.apply(unquote(value))
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return walk(document)


@dataclass(frozen=True)
class _ReportOptions:
    target: str | None  # None: no report; "": the default name in the current folder
    template: Path | None
    redact: bool

    def check(self, save: Path | None = None) -> None:
        """Refuse unusable report options before anything is fetched."""
        from diagnose.paths import output_file

        if save is not None:
            output_file(save)  # a device, a folder or a pipe is refused now, not replaced later
        if self.target and not Path(self.target).is_dir():
            output_file(Path(self.target))
        if self.redact and save is not None:
            raise UsageError(
                "a snapshot keeps the records as they came and cannot be redacted: "
                "leave out --save or --redact"
            )
        if self.target is None:
            if self.template is not None:
                raise UsageError("--template goes with --report")
            return
        if self.template is not None and not self.template.is_file():
            raise UsageError(f"Word template {self.template} does not exist")
        folder = (
            Path(self.target) if Path(self.target or ".").is_dir() else Path(self.target).parent
        )
        if not folder.is_dir():
            raise UsageError(f"cannot write the report: folder {folder} does not exist")

    def write(
        self, raw: RawEvidence, diagnosis: Diagnosis, sender: Sender, snapshot: Path | None
    ) -> None:
        from diagnose import audit
        from diagnose.evidence import Evidence
        from diagnose.render.word import write_report
        from diagnose.report import build_report

        report = build_report(
            diagnosis,
            Evidence(raw),
            redact=self.redact,
            remedies=audit.entries(),
            sender=sender,
            snapshot=hashlib.sha256(snapshot.read_bytes()).hexdigest() if snapshot else "",
        )
        path = Path(self.target or ".")
        if not self.target or path.is_dir():
            path = path / f"{report.file_stem}.docx"
        written = write_report(report, path, template=self.template)
        typer.echo(f"support request written to {written}", err=True)


def _diagnose(
    kind: SubjectKind,
    ref: str,
    *,
    as_json: bool,
    verbose: bool,
    only: list[str] | None,
    save: Path | None,
    sandbox: Path | None,
    report: _ReportOptions,
    profile: str | None = None,
    alerts: Path | None = None,
) -> None:
    import asyncio

    from diagnose.core import open_core

    started = time.perf_counter()
    if save is not None and not save.parent.is_dir():  # say so before anything is fetched
        raise UsageError(f"cannot save the snapshot: folder {save.parent} does not exist")
    report.check(save)
    selected = _split(only)
    if selected:  # a typo in --only is reported before anything is fetched
        from diagnose import engine

        engine.select(engine.load_catalogue(), selected)
    core = open_core(profile, sandbox, alerts=alerts)
    raw = asyncio.run(core.gather(kind, ref))
    _note_partial_name(kind, ref, raw)
    if save is not None:
        raw.save(save)
        typer.echo(f"evidence saved to {save}", err=True)
    diagnosis = core.diagnose(raw, selected)
    if report.target is not None:
        report.write(raw, diagnosis, core.sender(), save)
    _show(
        diagnosis,
        as_json=as_json,
        verbose=verbose,
        elapsed=time.perf_counter() - started,
        redact=raw if report.redact else None,
    )


def _note_partial_name(kind: SubjectKind, ref: str, raw: RawEvidence) -> None:
    """A name that matched one learner only in part is said, not taken silently."""
    from diagnose.evidence import Evidence
    from diagnose.refs import parse_learner_ref

    parsed = parse_learner_ref(ref) if kind.value == "learner" else None
    if parsed is None or parsed.kind != "name":
        return
    try:
        learner = Evidence(raw).learner
    except DiagnoseError:
        return
    if learner is not None and learner.full_name.casefold() != parsed.value.casefold():
        typer.echo(
            f"note: no learner is called {ref!r}; the only partial match is {learner.label}",
            err=True,
        )


def learner(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="LEARNER",
            help='A LearnerId (123), a RefInternal (STD0000123) or a name ("Jane Citizen").',
        ),
    ],
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
    only: OnlyOpt = None,
    save: SaveOpt = None,
    report: ReportOpt = None,
    template: TemplateOpt = None,
    redact: RedactOpt = False,
    sandbox: SandboxOpt = None,
    profile: ProfileOpt = None,
    alerts: AlertsOpt = None,
) -> None:
    """Run every check for a learner, and for each Xero invoice of the learner's contact."""
    from diagnose.model import SubjectKind

    _diagnose(
        SubjectKind.LEARNER,
        ref,
        as_json=as_json,
        verbose=verbose,
        only=only,
        save=save,
        sandbox=sandbox,
        report=_ReportOptions(report, template, redact),
        profile=profile,
        alerts=alerts,
    )


def invoice(
    ref: Annotated[
        str,
        typer.Argument(metavar="INVOICE", help="An invoice number (INV-0042) or a Xero InvoiceID."),
    ],
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
    only: OnlyOpt = None,
    save: SaveOpt = None,
    report: ReportOpt = None,
    template: TemplateOpt = None,
    redact: RedactOpt = False,
    sandbox: SandboxOpt = None,
    profile: ProfileOpt = None,
    alerts: AlertsOpt = None,
) -> None:
    """Run every check for a Xero invoice, and for the learner its Contact Code leads to."""
    from diagnose.model import SubjectKind

    _diagnose(
        SubjectKind.INVOICE,
        ref,
        as_json=as_json,
        verbose=verbose,
        only=only,
        save=save,
        sandbox=sandbox,
        report=_ReportOptions(report, template, redact),
        profile=profile,
        alerts=alerts,
    )


def replay(
    snapshot: Annotated[Path, typer.Argument(metavar="FILE", help="A snapshot written by --save.")],
    as_json: JsonOpt = False,
    verbose: VerboseOpt = False,
    only: OnlyOpt = None,
    report: ReportOpt = None,
    template: TemplateOpt = None,
    redact: RedactOpt = False,
) -> None:
    """Re-run the checks on a saved snapshot, offline (and write its --report)."""
    from diagnose import runner
    from diagnose.evidence import RawEvidence

    options = _ReportOptions(report, template, redact)
    options.check()
    selected = _split(only)
    raw = RawEvidence.load(snapshot)
    diagnosis = runner.diagnose(raw, selected)
    if options.target is not None:
        from diagnose.report import Sender

        options.write(raw, diagnosis, Sender.from_env(), snapshot)
    _show(diagnosis, as_json=as_json, verbose=verbose, elapsed=None, redact=raw if redact else None)


def tui(
    kind: Annotated[
        str | None,
        typer.Argument(metavar="[learner|invoice]", help="Jump straight to a learner or invoice."),
    ] = None,
    ref: Annotated[str | None, typer.Argument(metavar="[REF]", help="Its reference.")] = None,
    sandbox: SandboxOpt = None,
    profile: ProfileOpt = None,
    alerts: AlertsOpt = None,
) -> None:
    """Open the interactive walkthrough (keyboard only; ? lists the keys)."""
    from diagnose.model import SubjectKind

    if kind is not None and kind not in ("learner", "invoice"):
        raise UsageError(f"'diagnose tui {kind}': say 'learner' or 'invoice', then the reference")
    if kind is not None and ref is None:
        raise UsageError(f"'diagnose tui {kind}' needs the {kind}'s reference too")
    from diagnose.core import open_core

    # a bad profile or tenant file is one line here, before the screen opens
    core = open_core(profile, sandbox, alerts=alerts)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the walkthrough needs a terminal (its input or output is redirected); "
            "for a script use 'diagnose learner 123' or 'diagnose invoice INV-0042'"
        )
    from diagnose.tui import run_tui

    run_tui(core, kind=SubjectKind(kind) if kind else None, ref=ref)


def checks(as_json: JsonOpt = False, verbose: VerboseOpt = False) -> None:
    """List the check catalogue: ids, what each applies to, and (with -v) why and the fix."""
    from diagnose import engine

    catalogue = engine.load_catalogue()
    if as_json:
        from diagnose.render.jsondoc import catalogue_json

        typer.echo(json_text(catalogue_json(catalogue)))
    else:
        from diagnose.render.text import catalogue_text

        typer.echo(catalogue_text(catalogue, verbose))
