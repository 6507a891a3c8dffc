"""The `diagnose` command line.

Each command is a plain typed function; heavy modules are imported inside the command that
needs them, so `diagnose --help` stays fast and never loads the TUI or the Word renderer.
Errors reach the user as one line on stderr with the documented exit code, never a traceback.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from diagnose import __version__
from diagnose.errors import DiagnoseError, ExitCode, UsageError, diagnosis_exit_code
from diagnose.textsafe import json_text, one_line

if TYPE_CHECKING:
    from diagnose.evidence import RawEvidence
    from diagnose.model import Diagnosis, SubjectKind

app = typer.Typer(
    name="diagnose",
    help="Find out why a learner or an invoice is not syncing between Wisenet and Xero, and how "
    "to fix it. Runs on a built-in sandbox tenant until a live connection is set up.",
    no_args_is_help=True,
    add_completion=False,
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
        "--redact", help="In the --report document, replace names, emails, phones and streets."
    ),
]
ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile", metavar="NAME", help="A live profile (env: DIAGNOSE_PROFILE); default sandbox."
    ),
]
SandboxOpt = Annotated[
    Path | None,
    typer.Option(
        "--sandbox",
        metavar="FILE",
        help="Serve this tenant file instead of the built-in demo (env: DIAGNOSE_SANDBOX).",
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


def _show(diagnosis: Diagnosis, *, as_json: bool, verbose: bool, elapsed: float | None) -> None:
    code = diagnosis_exit_code(diagnosis)
    if as_json:
        from diagnose.render.jsondoc import diagnosis_json

        typer.echo(json_text(diagnosis_json(diagnosis, code)))
    else:
        from diagnose.render.text import diagnosis_text

        typer.echo(diagnosis_text(diagnosis, verbose=verbose, elapsed=elapsed))
    raise typer.Exit(int(code))


@dataclass(frozen=True)
class _ReportOptions:
    target: str | None  # None: no report; "": the default name in the current folder
    template: Path | None
    redact: bool

    def check(self) -> None:
        """Refuse unusable report options before anything is fetched."""
        if self.target is None:
            if self.template is not None or self.redact:
                raise UsageError("--template and --redact go with --report")
            return
        if self.template is not None and not self.template.is_file():
            raise UsageError(f"Word template {self.template} does not exist")
        folder = (
            Path(self.target) if Path(self.target or ".").is_dir() else Path(self.target).parent
        )
        if not folder.is_dir():
            raise UsageError(f"cannot write the report: folder {folder} does not exist")

    def write(self, raw: RawEvidence, diagnosis: Diagnosis) -> None:
        from diagnose import audit
        from diagnose.evidence import Evidence
        from diagnose.render.word import write_report
        from diagnose.report import build_report

        report = build_report(
            diagnosis, Evidence(raw), redact=self.redact, remedies=audit.entries()
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
) -> None:
    from diagnose import runner
    from diagnose.config import load_profile

    started = time.perf_counter()
    if save is not None and not save.parent.is_dir():  # say so before anything is fetched
        raise UsageError(f"cannot save the snapshot: folder {save.parent} does not exist")
    report.check()
    selected = _split(only)
    if selected:  # a typo in --only is reported before anything is fetched
        from diagnose import engine

        engine.select(engine.load_catalogue(), selected)
    chosen = load_profile(profile)
    if chosen.is_sandbox:
        raw = runner.gather(kind, ref, runner.open_sandbox(sandbox).tenant)
    elif sandbox is not None:
        raise UsageError(f"--sandbox goes with the sandbox profile, not {chosen.name!r}")
    else:
        raw = runner.gather_live(kind, ref, chosen)
    if save is not None:
        raw.save(save)
        typer.echo(f"evidence saved to {save}", err=True)
    diagnosis = runner.diagnose(raw, selected)
    if report.target is not None:
        report.write(raw, diagnosis)
    _show(diagnosis, as_json=as_json, verbose=verbose, elapsed=time.perf_counter() - started)


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
        options.write(raw, diagnosis)
    _show(diagnosis, as_json=as_json, verbose=verbose, elapsed=None)


@app.command()
def tui(
    kind: Annotated[
        str | None,
        typer.Argument(metavar="[learner|invoice]", help="Jump straight to a learner or invoice."),
    ] = None,
    ref: Annotated[str | None, typer.Argument(metavar="[REF]", help="Its reference.")] = None,
    sandbox: SandboxOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Open the interactive walkthrough (keyboard only; ? lists the keys)."""
    from diagnose.model import SubjectKind

    if kind is not None and kind not in ("learner", "invoice"):
        raise UsageError(f"'diagnose tui {kind}': say 'learner' or 'invoice', then the reference")
    if kind is not None and ref is None:
        raise UsageError(f"'diagnose tui {kind}' needs the {kind}'s reference too")
    from diagnose import runner
    from diagnose.cli_remedies import sandbox_only

    sandbox_only("the walkthrough", profile)
    runner.open_sandbox(sandbox)  # a bad tenant file is one line here, before the screen opens
    from diagnose.tui import run_tui

    run_tui(sandbox=sandbox, kind=SubjectKind(kind) if kind else None, ref=ref)


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


from diagnose.cli_remedies import (  # noqa: E402 — the write commands, registered on the app
    audit_command,
    finish_interrupted,
    fix_app,
    resync_app,
    sandbox_app,
)

config_app = typer.Typer(help="The profiles: which Wisenet and Xero a command talks to.")


@config_app.command("show")
def config_show(profile: ProfileOpt = None) -> None:
    """Print the profile in use and where its settings come from; secrets only as set."""
    from diagnose.config import config_path, describe, load_profile

    typer.echo(f"config file: {config_path()}")
    for key, value in describe(load_profile(profile)):
        typer.echo(f"  {key:<46} {one_line(value)}")


@app.command()
def status(profile: ProfileOpt = None) -> None:
    """Can this profile reach Wisenet and Xero? Organisation, token lifetime, headroom."""
    import asyncio

    from diagnose import runner
    from diagnose.config import load_profile
    from diagnose.status import live_status, sandbox_status

    chosen = load_profile(profile)
    if chosen.is_sandbox:
        box = runner.open_sandbox(None)
        lines = sandbox_status(box.tenant.organisation, box.copy.exists())
    else:
        lines = asyncio.run(live_status(chosen))
    typer.echo(f"profile {chosen.name}")
    for line in lines:
        typer.echo(f"  {'✓' if line.ok else '✗'} {line.service:<8} {one_line(line.text)}")
        if line.fix:
            typer.echo(f"      → {line.fix}")
    if not all(line.ok for line in lines):
        raise typer.Exit(int(ExitCode.UNREACHABLE))


@app.command()
def connect(
    service: Annotated[
        str, typer.Argument(metavar="xero|wisenet", help="The service to connect the profile to.")
    ],
    profile: ProfileOpt = None,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="The organisation's tenant id, if several.")
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the sign-in address; open nothing.")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait.")] = 300.0,
    api_key_stdin: Annotated[
        bool, typer.Option("--api-key-stdin", help="wisenet: read the API key from stdin.")
    ] = False,
    redirect_port: Annotated[
        int,
        typer.Option(
            "--redirect-port", help="Sign-in: the loopback port your app registered (else any)."
        ),
    ] = 0,
) -> None:
    """Sign a live profile in to Xero (OAuth with PKCE in your browser), or give it the Wisenet
    API key (asked for without echo, or read from stdin — never a command-line argument)."""
    import asyncio
    from dataclasses import replace

    from diagnose.config import load_profile
    from diagnose.connect import connect_xero

    chosen = load_profile(profile)
    if service == "wisenet" and chosen.wisenet_auth == "oauth":
        from diagnose.connect import connect_wisenet_oauth

        asyncio.run(
            connect_wisenet_oauth(
                chosen,
                announce=lambda text: typer.echo(text, err=True),
                open_browser=not no_browser,
                timeout=timeout,
                redirect_port=redirect_port,
            )
        )
        typer.echo(f"✓ profile {chosen.name} is signed in to Wisenet")
        return
    if service == "wisenet":
        _connect_wisenet(chosen, api_key_stdin)
        return
    if service != "xero":
        raise UsageError("say 'diagnose connect xero' or 'diagnose connect wisenet'")
    if tenant:
        chosen = replace(chosen, xero_tenant_id=tenant)

    def choose(organisations: list[tuple[str, str]]) -> str:
        """A pick-list at a terminal; elsewhere, the list and --tenant."""
        listing = "\n".join(
            f"  {n}. {one_line(name)}  ({tid})" for n, (tid, name) in enumerate(organisations, 1)
        )
        if not sys.stdin.isatty():
            raise UsageError(f"choose an organisation with --tenant:\n{listing}")
        typer.echo(f"The sign-in allows several organisations:\n{listing}", err=True)
        picked = int(typer.prompt("Which one (number)", type=int, err=True))
        if not 1 <= picked <= len(organisations):
            raise UsageError(f"{picked} is not one of the organisations listed; nothing was stored")
        return organisations[picked - 1][0]

    grant = asyncio.run(
        connect_xero(
            chosen,
            announce=lambda text: typer.echo(text, err=True),
            choose=choose,
            open_browser=not no_browser,
            timeout=timeout,
            redirect_port=redirect_port,
        )
    )
    typer.echo(f"✓ profile {chosen.name} is signed in to Xero: {one_line(grant.tenant_name)}")


def _connect_wisenet(profile: Any, from_stdin: bool) -> None:
    import asyncio

    from diagnose.model import Service
    from diagnose.sources.http import CallLog, Session
    from diagnose.sources.wisenet import WisenetClient
    from diagnose.tokens import SecretStore

    if profile.is_sandbox:
        raise UsageError("the sandbox needs no API key; name a live profile with --profile")
    if from_stdin:
        key = sys.stdin.readline().strip()
    elif sys.stdin.isatty():
        key = typer.prompt("Wisenet API key", hide_input=True, err=True).strip()
    else:
        raise UsageError("give the key with --api-key-stdin, or run at a terminal to be asked")
    if not key:
        raise UsageError("the API key is empty; nothing was stored")

    async def check() -> None:
        headers = {"x-api-key": key}
        async with Session(Service.WISENET, profile.wisenet_url, CallLog(), headers=headers) as s:
            await WisenetClient(s, flavour=profile.wisenet_flavour).find_learners(search="", take=1)

    asyncio.run(check())  # a refused key is exit 3 here, and nothing is stored
    SecretStore(profile.name, "wisenet-api-key").save(key)
    typer.echo(f"✓ profile {profile.name} reaches Wisenet with the key (kept; never shown)")


@app.command()
def disconnect(
    service: Annotated[
        str, typer.Argument(metavar="xero|wisenet", help="The service to disconnect.")
    ],
    profile: ProfileOpt = None,
) -> None:
    """Revoke the profile's Xero sign-in and forget it, or forget its Wisenet API key."""
    import asyncio

    from diagnose.config import load_profile
    from diagnose.connect import disconnect_xero
    from diagnose.tokens import SecretStore

    chosen = load_profile(profile)
    if service == "wisenet":
        from diagnose.tokens import Store

        SecretStore(chosen.name, "wisenet-api-key").forget()
        Store(chosen.name, "wisenet").forget()
        typer.echo(f"profile {chosen.name} no longer keeps a Wisenet API key or sign-in")
        return
    if service != "xero":
        raise UsageError("say 'diagnose disconnect xero' or 'diagnose disconnect wisenet'")
    typer.echo(asyncio.run(disconnect_xero(chosen)))


app.add_typer(config_app, name="config")
app.add_typer(resync_app, name="resync")
app.add_typer(fix_app, name="fix")
app.add_typer(sandbox_app, name="sandbox")
app.command("audit")(audit_command)


def _fail(message: str, code: int) -> None:
    first, *rest = message.splitlines() or [""]
    typer.echo(f"diagnose: {one_line(first)}", err=True)
    for line in rest:
        typer.echo(one_line(line), err=True)
    sys.exit(code)


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


def main() -> None:
    """Entry point: run the app and turn every way out into one line and an exit code."""
    from typer._click import exceptions as click_exc  # Typer's vendored Click

    args = sys.argv[1:]
    try:
        if _is_a_command(args) and args[:2] != ["resync", "--recover"]:
            finish_interrupted()  # a re-toggle an earlier run left half-done is finished first
        # without standalone mode, typer.Exit returns its code instead of exiting
        code = app(
            args=_optional_report_value(sys.argv[1:]), prog_name="diagnose", standalone_mode=False
        )
    except click_exc.NoArgsIsHelpError:
        sys.exit(0)  # the help has been printed
    except click_exc.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _fail(exc.format_message() + hint, ExitCode.USAGE)
    except click_exc.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except typer.Abort:
        _fail("interrupted", ExitCode.INTERRUPTED)
    except DiagnoseError as exc:
        _fail(str(exc), int(exc.exit_code))
    except KeyboardInterrupt:
        _fail("interrupted", ExitCode.INTERRUPTED)
    except Exception as exc:
        if os.environ.get("DIAGNOSE_DEBUG"):
            raise
        _fail(
            f"internal error: {type(exc).__name__}: {exc} — this is a bug; run again with "
            "DIAGNOSE_DEBUG=1 for the details and report them",
            ExitCode.INTERNAL,
        )
    sys.exit(code if isinstance(code, int) else 0)
