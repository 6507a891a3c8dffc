"""`diagnose sandbox`: serve the sandbox tenant, generate one, export its alerts, reset it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from diagnose.cli.options import SandboxOpt
from diagnose.errors import UsageError

sandbox_app = typer.Typer(help="The built-in sandbox tenant.")


def _share(help_text: str, flag: str) -> Any:
    return typer.Option(flag, help=f"Share of requests {help_text} (0 to 1).")


@sandbox_app.command("serve")
def sandbox_serve(
    port: Annotated[int, typer.Option("--port", help="Loopback port.")] = 8765,
    latency_ms: Annotated[int, typer.Option("--latency-ms", help="Added to every answer.")] = 0,
    fail_rate: Annotated[float, _share("answered 503", "--fail-rate")] = 0.0,
    drop_rate: Annotated[float, _share("dropped mid-answer", "--drop-rate")] = 0.0,
    throttle_rate: Annotated[
        float, _share("answered 429 with a Retry-After", "--throttle-rate")
    ] = 0.0,
    slow_rate: Annotated[float, _share("held --slow-ms before the answer", "--slow-rate")] = 0.0,
    slow_ms: Annotated[int, typer.Option("--slow-ms", help="How long a slow answer waits.")] = 2000,
    garble_rate: Annotated[
        float, _share("with a truncated, invalid or wrong-shaped JSON body", "--garble-rate")
    ] = 0.0,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Repeat the same faults in the same order.")
    ] = None,
    rate_limit: Annotated[
        list[str] | None,
        typer.Option(
            "--rate-limit",
            metavar="LIMIT",
            help="Xero's calls a minute (xero=60/min) or a day (xero=5000/day), Wisenet's a "
            "second (wisenet=10/s); repeat for each. What is not said is the service's own.",
        ),
    ] = None,
    concurrent: Annotated[int, typer.Option("--concurrent", help="Xero calls at once.")] = 5,
    redirect_uri: Annotated[
        list[str] | None,
        typer.Option(
            "--redirect-uri",
            metavar="URI",
            help="A redirect URI registered for the demo client (repeat; default "
            "http://localhost:8749/callback). Sign-ins to any other are refused, as Xero does.",
        ),
    ] = None,
    faults: Annotated[
        str | None,
        typer.Option(
            "--faults",
            metavar="JSON|FILE",
            help='Answer chosen requests with a fault: a JSON list such as [{"method": "GET", '
            '"path": "/v1/learnersAU/103", "nth": 1, "status": 503}], or a file holding one.',
        ),
    ] = None,
    test_harness: Annotated[
        bool,
        typer.Option(
            "--test-harness",
            hidden=True,
            help="For tests: serve /_sandbox/requests and /_sandbox/secrets (every token issued).",
        ),
    ] = False,
    sandbox: SandboxOpt = None,
) -> None:
    """Serve the sandbox tenant on http://127.0.0.1:PORT, limits and all (Ctrl-C stops)."""
    from diagnose import runner
    from diagnose.config import REDIRECT_URI
    from diagnose.sandbox.app import create_app
    from diagnose.sandbox.faults import parse_faults
    from diagnose.sandbox.identity import Identity
    from diagnose.sandbox.serve import Behaviour, Mix, TakingTurns, parse_rate_limits, serve

    shares = (fail_rate, drop_rate, throttle_rate, slow_rate, garble_rate)
    if not all(0 <= share <= 1 for share in shares) or sum(shares) > 1:
        raise UsageError("the --…-rate options are shares from 0 to 1, together at most 1")
    if not 0 < port < 65536:
        raise UsageError("--port must be from 1 to 65535")
    if latency_ms < 0 or slow_ms < 0:
        raise UsageError("--latency-ms and --slow-ms cannot be negative")
    limits = parse_rate_limits(rate_limit or [])
    limits.concurrent = concurrent
    box = runner.open_sandbox(sandbox)  # other commands' writes are read again (`TakingTurns`)
    mix = Mix(fail_rate, drop_rate, throttle_rate, slow_rate, garble_rate, slow_ms)
    registered = tuple(redirect_uri or [REDIRECT_URI])
    xero = Identity(redirect_uris=registered)
    wisenet = Identity(checks_scopes=False, redirect_uris=registered)
    chosen = []
    if faults is not None:
        named = Path(faults)
        text = faults if faults.lstrip().startswith("[") else _read_faults(named)
        chosen = parse_faults(text)
    served = create_app(
        box.tenant, on_write=box.save, identity=xero, wisenet_identity=wisenet, faults=chosen
    )
    app = Behaviour(
        TakingTurns(served, box.refresh, lambda: runner.taking_turns(box)),
        limits=limits,
        latency_ms=latency_ms,
        mix=mix,
        seed=seed,
        given=(lambda: xero.given + wisenet.given) if test_harness else None,
    )
    typer.echo(
        f"serving the {box.label} sandbox tenant on http://127.0.0.1:{port} "
        f"(Xero: {limits.per_minute} a minute, {limits.per_day} a day, {limits.concurrent} at "
        f"once; Wisenet: "
        f"{limits.wisenet_per_second} a second); Ctrl-C stops",
        err=True,
    )
    serve(app, port)


def _read_faults(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--faults {path}: cannot read it ({exc})") from None


@sandbox_app.command("generate")
def sandbox_generate(
    learners: Annotated[int, typer.Option("--learners", help="How many learners.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="The same seed makes the same tenant.")] = 1,
    output: Annotated[
        Path, typer.Option("-o", "--output", metavar="FILE", help="The tenant file to write.")
    ] = Path("tenant.json"),
) -> None:
    """Write a realistic tenant (the catalogue's failure modes at realistic rates) and, beside it,
    its ground truth: which learner and invoice must fail or warn which check."""
    import json

    from diagnose.paths import write_atomically
    from diagnose.sandbox.generate import generate

    if not 1 <= learners <= 200_000:  # the largest tenants the scan is measured on, and more
        raise UsageError("--learners is from 1 to 200000")
    if not output.parent.is_dir():
        raise UsageError(f"folder {output.parent} does not exist")
    tenant, truth = generate(learners, seed)
    truth_path = output.with_name(output.stem + ".truth.json")
    write_atomically(output, json.dumps(tenant) + "\n")
    write_atomically(truth_path, json.dumps(truth, indent=1) + "\n")
    typer.echo(
        f"wrote {output} ({learners} learners, {len(tenant['xero']['invoices'])} Xero invoices) "
        f"and its ground truth {truth_path}"
    )


@sandbox_app.command("export-alerts")
def sandbox_export_alerts(
    output: Annotated[Path, typer.Argument(metavar="FILE", help="alerts.csv, or alerts.xlsx.")],
    sandbox: SandboxOpt = None,
) -> None:
    """Write the sandbox tenant's Event Alerts as LRM's export would (CSV, or XLSX when FILE
    ends in .xlsx), to try `--alerts` and `diagnose alerts import`."""
    from diagnose import runner
    from diagnose.sources.alerts_export import write_export

    if not output.parent.is_dir():
        raise UsageError(f"folder {output.parent} does not exist")
    tenant = runner.open_sandbox(sandbox).tenant
    alerts = tenant.event_alerts or []
    write_export(output, alerts)
    typer.echo(f"wrote {len(alerts)} Event Alert(s) of {tenant.organisation} to {output}")


@sandbox_app.command("reset")
def sandbox_reset(sandbox: SandboxOpt = None) -> None:
    """Forget every write made to the sandbox tenant: back to its source file."""
    from filelock import Timeout

    from diagnose import runner, scan_cache
    from diagnose.sandbox import sandbox_source
    from diagnose.sandbox.workcopy import reset

    source, demo = sandbox_source(sandbox)
    lock = runner.writer_lock(source, demo=demo)  # a write under way ends first
    try:
        lock.acquire()
    except Timeout:
        raise runner.busy() from None
    try:
        done = reset(source, demo=demo)
    finally:
        lock.release()
    if done:  # and what a scan kept of the old records is dropped
        scan_cache.Cache(scan_cache.folder_for(scan_cache.sandbox_key(source))).forget()
        typer.echo(f"the sandbox is back to {'the built-in demo' if demo else source}")
    else:
        typer.echo("nothing to reset: no write was made to this sandbox")
