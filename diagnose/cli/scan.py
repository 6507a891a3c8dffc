"""`diagnose scan`: the whole tenant, from bulk calls."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from diagnose.cli.options import AlertsOpt, ProfileOpt, SandboxOpt
from diagnose.errors import UsageError


def in_place(text: str) -> str:
    """A progress line written over the last one: as wide as the terminal less a column (a line
    that wrapped could not be written over), cut with "…" when longer, padded to clear a longer
    one before it."""
    import os

    columns = os.environ.get("COLUMNS", "")
    if not (columns.isdigit() and int(columns) > 0):
        try:  # the progress goes to stderr: its terminal, whatever stdout is
            columns = str(os.get_terminal_size(sys.stderr.fileno()).columns)
        except (OSError, ValueError):
            columns = "80"
    room = max(int(columns) - 1, 10)
    return (text if len(text) <= room else text[: room - 1] + "…").ljust(room)


def scan(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", metavar="FILE", help="Also write one row per finding.")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", metavar="FILE.docx", help="Also write a Word summary."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DATE", help="Only invoices changed since (2026-11-01)."),
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Fetch and check everything again, ignoring the cache.")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only", metavar="ID", help="Report only these check ids (repeat, or commas)."
        ),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact", help="In the --report, name records by id only and show no names."
        ),
    ] = False,
    profile: ProfileOpt = None,
    sandbox: SandboxOpt = None,
    alerts: AlertsOpt = None,
) -> None:
    """Check every learner and every Xero invoice of the tenant, from a few paged calls.

    The next scan asks only for what changed, and checks again only what that touches."""
    import asyncio
    from datetime import UTC, datetime

    from diagnose import engine
    from diagnose import scan as scanning
    from diagnose.core import open_core
    from diagnose.errors import ExitCode, findings_exit_code
    from diagnose.model import ApiCall
    from diagnose.paths import write_output
    from diagnose.render.health import health_csv, health_json, health_text
    from diagnose.textsafe import json_text

    selected = [part.strip() for item in only or [] for part in item.split(",") if part.strip()]
    catalogue = engine.load_catalogue()
    if selected:
        catalogue = engine.select(catalogue, selected)
    invoices_since = None
    if since is not None:
        from diagnose.msdate import parse_datetime

        invoices_since = parse_datetime(since)
        if invoices_since is None:
            raise UsageError(f"--since {since!r}: give a date such as 2026-11-01")
    if report is not None and not report.parent.is_dir():
        raise UsageError(f"cannot write {report}: folder {report.parent} does not exist")
    if redact and report is None:
        raise UsageError("--redact goes with --report")
    from diagnose.paths import output_file

    for named in (report, csv_file):
        if named is not None:
            output_file(named)  # a device, a folder or a pipe: refused before any call
    if csv_file is not None and not csv_file.parent.is_dir():
        raise UsageError(f"cannot write {csv_file}: folder {csv_file.parent} does not exist")
    core = open_core(profile, sandbox, alerts=alerts)
    pages = [0]
    live = sys.stderr.isatty()
    log: list[ApiCall] = []

    def tick() -> None:
        pages[0] += 1
        if live:
            left = next((c.day_remaining for c in reversed(log) if c.day_remaining), None)
            today = f", {left:,} Xero calls left today" if left is not None else ""
            said = f"{pages[0]:,} pages fetched, {len(log):,} calls made{today}"
            typer.echo(f"\r{in_place(said)}", nl=False, err=True)

    bulk, mode, tenant = asyncio.run(
        core.fetch_tenant(log, tick, fresh=fresh, invoices_since=invoices_since)
    )
    calls = log
    taken_at = datetime.now(UTC)  # when the answers were in
    if live:
        typer.echo("", err=True)
    for note in core.cache_notes:
        _note(note)

    def checking(done: int, total: int) -> None:
        if live:  # the checks of 100,000 learners take a couple of minutes
            end = "\n" if done == total else ""
            said = in_place(f"checked {done:,} of {total:,} learners")
            typer.echo(f"\r{said}{end}", nl=False, err=True)

    findings = [
        f
        for f in scanning.findings_of(
            bulk,
            catalogue,
            mode=mode,
            tenant=tenant,
            calls=calls,
            folder=core.scan_folder(),
            progress=checking,
        )
        if not selected or f.check_id in selected
    ]
    if bulk.reused:
        _note("no record changed since the last scan: its findings stand")
    elif bulk.rechecked is not None:
        again, of = bulk.rechecked
        _note(
            f"{again:,} of {of:,} learners and invoice groups checked again (those the records "
            "changed since the last scan touch): the others' findings stand"
        )
    summary = scanning.counts(findings)
    code = findings_exit_code(findings)
    if csv_file is not None:
        write_output(csv_file, health_csv(findings))
        typer.echo(f"findings written to {csv_file}", err=True)
    if report is not None:
        from diagnose.render.word import write_report
        from diagnose.report.scan import scan_report

        summary_doc = scan_report(
            findings,
            tenant=tenant,
            mode=mode,
            learners=len(bulk.learners),
            invoices=len(bulk.invoices),
            calls=calls,
            taken_at=taken_at,
            redact=redact,
            fixes={c.id: c.fix for c in catalogue},
            sender=core.sender(),
        )
        typer.echo(f"sync health written to {write_report(summary_doc, report)}", err=True)
    if as_json:
        typer.echo(
            json_text(
                health_json(
                    findings, summary, tenant=tenant, mode=mode, calls=calls, exit_code=int(code)
                )
            )
        )
    else:
        typer.echo(
            health_text(
                findings,
                tenant=tenant,
                mode=mode,
                learners=len(bulk.learners),
                invoices=len(bulk.invoices),
                calls=calls,
            )
        )
    if code != ExitCode.OK:
        raise typer.Exit(int(code))


def _note(text: str) -> None:
    """A note on stderr, cut to the terminal's width."""
    import textwrap

    from diagnose.render.text import width

    typer.echo(textwrap.fill(f"note: {text}", width(), subsequent_indent="      "), err=True)
