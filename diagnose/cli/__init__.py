"""The `diagnose` command line.

Each command is a plain typed function; heavy modules are imported inside the command that
needs them, so `diagnose --help` stays fast and never loads the TUI or the Word renderer.
Errors reach the user as one line on stderr with the documented exit code, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from typing import Annotated

import typer

from diagnose import __version__
from diagnose.errors import DiagnoseError, ExitCode, UsageError
from diagnose.textsafe import json_text, one_line

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


from diagnose.cli.diagnosis import checks, invoice, learner, replay, tui  # noqa: E402

app.command()(learner)
app.command()(invoice)
app.command()(replay)
app.command()(tui)
app.command()(checks)
from diagnose.cli.alerts import alerts_app  # noqa: E402 — the Event Alerts exports
from diagnose.cli.audit import audit_command  # noqa: E402
from diagnose.cli.live import (  # noqa: E402 — the connection commands, registered on the app
    config_app,
    connect,
    disconnect,
    status,
)
from diagnose.cli.remedies import (  # noqa: E402 — the write commands, registered on the app
    finish_interrupted,
    fix_app,
    resync_app,
)
from diagnose.cli.sandbox import sandbox_app  # noqa: E402
from diagnose.cli.scan import scan  # noqa: E402 — the tenant-wide command

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
