"""The `diagnose` command line.

Each command is a plain typed function; heavy modules are imported inside the command that
needs them, so `diagnose --help` stays fast and never loads the TUI or the Word renderer.
Errors reach the user as one line on stderr with the documented exit code, never a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from diagnose import __version__
from diagnose.cli_options import AlertsOpt, ProfileOpt, SandboxOpt
from diagnose.errors import DiagnoseError, ExitCode, UsageError, diagnosis_exit_code
from diagnose.textsafe import json_text, one_line

if TYPE_CHECKING:
    from diagnose.evidence import RawEvidence
    from diagnose.model import Diagnosis, SubjectKind
    from diagnose.report import Sender

app = typer.Typer(
    name="diagnose",
    help="Find out why a learner or an invoice is not syncing between Wisenet and Xero, and how "
    "to fix it. Runs on a built-in sandbox tenant until a live connection is set up.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    # Plain help: Rich's help formatter alone costs ~80 ms of start-up (measured), and
    # `diagnose --help` must answer in well under 0.2 s.
    rich_markup_mode=None,
)

JsonOpt = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON document on stdout; everything else on stderr."),
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show passing checks, evidence and API calls.")
]
OnlyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--only",
        metavar="ID",
        help="Report only these check ids (repeat, or separate with commas).",
    ),
]
SaveOpt = Annotated[
    Path | None,
    typer.Option("--save", metavar="FILE", help="Also write the evidence as a JSON snapshot."),
]
ReportOpt = Annotated[
    str | None,
    typer.Option(
        "--report",
        metavar="[FILE]",
        help="Also write the Word support request (default name: "
        "support-request-<subject>-<date>.docx in the current folder).",
    ),
]
TemplateOpt = Annotated[
    Path | None,
    typer.Option("--template", metavar="FILE", help="Word template for --report."),
]
RedactOpt = Annotated[
    bool,
    typer.Option(
        "--redact",
        help="Replace names, emails, phones and streets in all this prints and writes (the "
        "--report document too); not with --save.",
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"diagnose {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Wisenet ↔ Xero sync troubleshooting."""


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
    code = diagnosis_exit_code(diagnosis)
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


@app.command()
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


@app.command()
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


@app.command()
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


@app.command()
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


@app.command()
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


from diagnose.cli_alerts import alerts_app  # noqa: E402 — the Event Alerts exports
from diagnose.cli_live import (  # noqa: E402 — the connection commands, registered on the app
    config_app,
    connect,
    disconnect,
    status,
)
from diagnose.cli_remedies import (  # noqa: E402 — the write commands, registered on the app
    audit_command,
    finish_interrupted,
    fix_app,
    resync_app,
    sandbox_app,
)
from diagnose.cli_scan import scan  # noqa: E402 — the tenant-wide command

app.command()(scan)
app.command()(status)
app.command()(connect)
app.command()(disconnect)
app.add_typer(config_app, name="config")
app.add_typer(resync_app, name="resync")
app.add_typer(fix_app, name="fix")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(alerts_app, name="alerts")
app.command("audit")(audit_command)


def _fail(message: str, code: int) -> None:
    """One line on stderr (and more lines when there is a list to show) and the exit code;
    with --json, also one JSON document on stdout that says the same."""
    first, *rest = message.splitlines() or [""]
    typer.echo(f"diagnose: {one_line(first)}", err=True)
    for line in rest:
        typer.echo(one_line(line), err=True)
    if "--json" in sys.argv[1:]:
        from diagnose.render.jsondoc import error_json

        typer.echo(json_text(error_json(message, code), indent=2))
    sys.exit(code)


def _refuse_negative_reference(args: list[str]) -> None:
    """`diagnose learner -5` would read as an unknown option: say what is wrong with it."""
    from itertools import pairwise

    for command, word in pairwise(args):
        if command == "learner" and re.fullmatch(r"-\d+", word):
            raise UsageError(f"{word} is not a LearnerId: a LearnerId is a positive whole number")
        if command == "invoice" and re.fullmatch(r"-\d+", word):
            raise UsageError(f"{word} is not an invoice number or InvoiceID")


def _optional_report_value(argv: list[str]) -> list[str]:
    """`--report` may stand without a file name (Typer has no optional-value options): give it
    an empty one when the next word is another option or there is none."""
    result: list[str] = []
    for i, word in enumerate(argv):
        if word == "--":
            return result + argv[i:]
        result.append(word)
        if word == "--report" and (i + 1 == len(argv) or argv[i + 1].startswith("-")):
            result.append("")
    return result


def _is_a_command(args: list[str]) -> bool:
    """Anything but help or the version: those answer at once and touch nothing."""
    return bool(args) and not ({"--help", "-h", "--version"} & set(args))


_SIGNALLED: list[int] = []  # SIGTERM or SIGHUP received: handled as Ctrl-C, told apart


def _as_ctrl_c(signum: int, frame: object) -> None:
    """SIGTERM and SIGHUP (a closed terminal, a stopped service) end a command the way Ctrl-C
    does — a re-toggle under way ticks the learner again, closes its journal entry and writes
    its audit line — and then exit 128 + the signal's number."""
    import signal

    _SIGNALLED.append(signum)
    signal.raise_signal(signal.SIGINT)


def _interrupted() -> None:
    if _SIGNALLED:
        import signal

        name = signal.Signals(_SIGNALLED[0]).name
        _fail(f"stopped by {name}", 128 + _SIGNALLED[0])
    _fail("interrupted", ExitCode.INTERRUPTED)


def main() -> None:
    """Entry point: run the app and turn every way out into one line and an exit code."""
    import signal

    from typer._click import exceptions as click_exc  # Typer's vendored Click

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            with contextlib.suppress(ValueError):  # only the main thread may set them
                signal.signal(getattr(signal, name), _as_ctrl_c)
    args = sys.argv[1:]
    try:
        _refuse_negative_reference(args)
        if _is_a_command(args) and args[:2] != ["resync", "--recover"]:
            finish_interrupted()  # a re-toggle an earlier run left half-done is finished first
        # without standalone mode, typer.Exit returns its code instead of exiting
        code = app(
            args=_optional_report_value(sys.argv[1:]), prog_name="diagnose", standalone_mode=False
        )
    except click_exc.NoArgsIsHelpError as exc:
        typer.echo(exc.format_message())  # bare `diagnose`: the help, on stdout
        sys.exit(0)
    except click_exc.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _fail(exc.format_message() + hint, ExitCode.USAGE)
    except click_exc.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except typer.Abort:
        _interrupted()
    except DiagnoseError as exc:
        _fail(str(exc), int(exc.exit_code))
    except KeyboardInterrupt:
        _interrupted()
    except Exception as exc:
        if os.environ.get("DIAGNOSE_DEBUG"):
            raise
        _fail(
            f"internal error: {type(exc).__name__}: {exc} — this is a bug; run again with "
            "DIAGNOSE_DEBUG=1 for the details and report them",
            ExitCode.INTERNAL,
        )
    if _SIGNALLED:  # the command finished what it had under way first (a re-tick, say)
        _interrupted()
    sys.exit(code if isinstance(code, int) else 0)
