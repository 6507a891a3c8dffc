"""`diagnose scan`: the whole tenant, from bulk calls."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from diagnose.cli_options import ProfileOpt, SandboxOpt
from diagnose.errors import UsageError


def scan(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", metavar="FILE", help="Also write one row per finding.")
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only", metavar="ID", help="Report only these check ids (repeat, or commas)."
        ),
    ] = None,
    profile: ProfileOpt = None,
    sandbox: SandboxOpt = None,
) -> None:
    """Check every learner and every Xero invoice of the tenant, from a few paged calls."""
    import asyncio

    from diagnose import engine, runner
    from diagnose import scan as scanning
    from diagnose.config import load_profile
    from diagnose.errors import ExitCode, diagnosis_exit_code
    from diagnose.model import ApiCall, Diagnosis, Subject, SubjectKind
    from diagnose.paths import write_atomically
    from diagnose.render.health import health_csv, health_json, health_text
    from diagnose.sources.sandbox import sandbox_sources
    from diagnose.textsafe import json_text

    selected = [part.strip() for item in only or [] for part in item.split(",") if part.strip()]
    catalogue = engine.load_catalogue()
    if selected:
        catalogue = engine.select(catalogue, selected)
    if csv_file is not None and not csv_file.parent.is_dir():
        raise UsageError(f"cannot write {csv_file}: folder {csv_file.parent} does not exist")
    chosen = load_profile(profile)
    pages = [0]
    live = sys.stderr.isatty() and not as_json

    def tick() -> None:
        pages[0] += 1
        if live:
            typer.echo(f"\r{pages[0]} pages fetched", nl=False, err=True)

    async def fetch() -> tuple[scanning.Bulk, list[ApiCall], str, str]:
        if chosen.is_sandbox:
            box = runner.open_sandbox(sandbox)
            async with sandbox_sources(box.tenant) as sources:
                bulk = await scanning.fetch(sources, tick)
                return bulk, sources.log.calls, "sandbox", box.tenant.organisation
        if sandbox is not None:
            raise UsageError(f"--sandbox goes with the sandbox profile, not {chosen.name!r}")
        from diagnose.sources.live import live_sources

        async with live_sources(chosen) as sources:
            bulk = await scanning.fetch(sources, tick)
            name = next(
                (
                    str(c.get("tenantName"))
                    for c in bulk.connections
                    if c.get("tenantId") == sources.xero.tenant_id
                ),
                chosen.name,
            )
            return bulk, sources.log.calls, "live", name

    bulk, calls, mode, tenant = asyncio.run(fetch())
    if live:
        typer.echo("", err=True)
    findings = [
        f
        for f in scanning.diagnose_all(bulk, catalogue, mode=mode, tenant=tenant, calls=calls)
        if not selected or f.check_id in selected
    ]
    summary = scanning.counts(findings)
    as_diagnosis = Diagnosis(
        Subject(SubjectKind.LEARNER, "*"),
        "scan",
        mode,
        tenant,
        datetime.now(UTC),
        tuple(findings),
        tuple(calls),
    )
    code = diagnosis_exit_code(as_diagnosis)
    if csv_file is not None:
        write_atomically(csv_file, health_csv(findings))
        typer.echo(f"findings written to {csv_file}", err=True)
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
