"""The commands that write: `resync`, `fix contact-code`, `sandbox reset`, and `audit`.

Kept apart from the read-only commands in `diagnose.cli`; heavy modules are imported inside each
command, as there.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from diagnose.cli_options import ProfileOpt, SandboxOpt
from diagnose.errors import ExitCode, UsageError
from diagnose.textsafe import one_line

if TYPE_CHECKING:
    from diagnose.core import Core
    from diagnose.model import Diagnosis
    from diagnose.where import Where

YesOpt = Annotated[
    bool,
    typer.Option(
        "--yes", "-y", help="Make the writes without asking (the plan still goes to stderr)."
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Print the exact writes and make none of them.")
]
MAX_LEARNERS = 25  # a bulk re-toggle names at most this many learners unless --max says more

resync_app = typer.Typer(
    help='Untick and re-tick "Sync to Xero" safely, so the integration starts over.',
    no_args_is_help=False,
)
fix_app = typer.Typer(help="Repair what the checks found, after showing the exact writes.")
sandbox_app = typer.Typer(help="The built-in sandbox tenant.")


def _confirm(plans: list[str], yes: bool, what: str, where: Where) -> str:
    """Show the plan on stderr and get the person's go-ahead; "" when given, else why not.

    On a live organisation the person types its name; on the sandbox y is enough."""
    typer.echo("\n".join(plans), err=True)
    if yes:
        return ""
    if not sys.stdin.isatty():
        raise UsageError(f"{what} needs --yes when it is not run at a terminal (nothing written)")
    phrase = where.confirm_phrase
    if phrase is None:
        return "" if typer.confirm("Make these writes?", err=True) else "not confirmed"
    typed = typer.prompt(
        f"These writes change {where.describe()}.\nType the organisation's name ({phrase}) "
        "to make them",
        default="",
        show_default=False,
        err=True,
    )
    return where.refusal(typed)


def parse_duration(text: str) -> float:
    """`90`, `90s`, `10m`, `1h` → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if match is None or float(match.group(1)) <= 0:
        raise UsageError(f"--wait {text!r}: give a duration such as 90s, 10m or 1h")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def _learner_ids(ids: list[str], from_file: Path | None) -> list[int]:
    from diagnose.refs import parse_learner_ref

    words: list[tuple[str, str]] = [(word, "argument") for word in ids]
    if from_file is not None:
        try:
            lines = from_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {from_file}: {exc}") from None
        words += [
            (line.split("#", 1)[0].strip(), f"{from_file} line {n}")
            for n, line in enumerate(lines, 1)
            if line.split("#", 1)[0].strip()
        ]
    found: list[int] = []
    for word, where in words:
        try:
            ref = parse_learner_ref(word)
        except UsageError as exc:
            raise UsageError(f"{where}: {exc}") from None
        if ref.kind != "id":
            raise UsageError(f"{where}: {word!r} is not a LearnerId (resync takes LearnerIds)")
        if ref.learner_id not in found:
            found.append(ref.learner_id)
    if not found:
        raise UsageError("name at least one LearnerId, or --from-file with one a line")
    return found


def _blocking(diagnosis: Diagnosis) -> str:
    from diagnose.model import Status

    failing = [f for f in diagnosis.findings if f.status in (Status.FAIL, Status.ERROR)]
    return (
        "; ".join(f"{f.check_id}: {f.message}" for f in failing)
        or "nothing failed, not yet in Xero"
    )


@resync_app.callback(invoke_without_command=True)
def resync(
    ctx: typer.Context,
    recover: Annotated[
        bool, typer.Option("--recover", help="Finish re-toggles an interrupted run left behind.")
    ] = False,
    profile: ProfileOpt = None,
) -> None:
    """Untick and re-tick "Sync to Xero" safely, so the integration starts over."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = profile  # `diagnose resync --profile P learner 103` means the same
        return
    if not recover:
        raise UsageError("say what to resync: 'diagnose resync learner ID…', or --recover")
    if profile is not None:
        from diagnose.config import load_profile

        profile = load_profile(profile).name  # an unknown profile is one line here
    finished = finish_interrupted(explicit=True, profile=profile)
    if not finished:
        typer.echo("nothing to recover: no re-toggle was left unfinished")


@resync_app.command("learner")
def resync_learner(
    ctx: typer.Context,
    ids: Annotated[list[str] | None, typer.Argument(metavar="ID…", help="LearnerIds.")] = None,
    from_file: Annotated[
        Path | None, typer.Option("--from-file", metavar="FILE", help="LearnerIds, one a line.")
    ] = None,
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
    wait: Annotated[
        str | None,
        typer.Option(
            "--wait", metavar="DURATION", help="Then wait (e.g. 10m) until Xero has synced."
        ),
    ] = None,
    max_learners: Annotated[
        int,
        typer.Option("--max", metavar="N", help=f"At most N learners (default {MAX_LEARNERS})."),
    ] = MAX_LEARNERS,
    sandbox: SandboxOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Re-toggle "Sync to Xero" for one or more learners, with a journal and read-backs."""
    import asyncio

    from diagnose.core import Outcome, open_core

    learner_ids = _learner_ids(ids or [], from_file)
    if max_learners < 1:
        raise UsageError("--max is at least 1")
    if len(learner_ids) > max_learners:
        raise UsageError(
            f"{len(learner_ids)} learners named, more than --max {max_learners}: re-toggle "
            f"them in smaller runs, or raise --max (nothing written)"
        )
    seconds = parse_duration(wait) if wait is not None else None
    core = open_core(profile or ctx.obj, sandbox, writing=not dry_run)
    plan = asyncio.run(core.plan_resync(learner_ids))
    if dry_run:
        typer.echo("\n".join(["Dry run: these writes would be made (none was):", *plan.lines]))
    if not plan.todo:  # the same answer with --dry-run as without: nothing could be done
        raise UsageError("; ".join(str(x) for x in plan.learners))
    if dry_run:
        return
    refusal = _confirm(plan.lines, yes, "resync", plan.where)
    if refusal:
        for learner in plan.todo:
            core.refuse(plan, f"learner {learner.learner_id}", refusal)
        raise UsageError(f"{refusal}: nothing written")

    with typer.progressbar(
        length=len(plan.todo), label="re-toggling", file=sys.stderr, hidden=len(plan.todo) < 2
    ) as bar:

        def done(outcome: Outcome) -> None:
            bar.update(1)

        outcomes = asyncio.run(core.resync(plan, done))
    if len(learner_ids) == 1 and outcomes[0].error is not None:
        raise outcomes[0].error
    ok = all(o.ok for o in outcomes)
    for o in outcomes:
        typer.echo(f"{'✓' if o.ok else '✗'} learner {o.learner_id}: {o.message}")
    if seconds is not None:
        for o in outcomes:
            if o.ok and not _waited(core, o.learner_id, seconds):
                ok = False
    if len(outcomes) > 1:
        good = sum(1 for o in outcomes if o.ok)
        typer.echo(f"{good} of {len(outcomes)} learners re-toggled", err=True)
    if not ok:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def _waited(core: Core, learner_id: int, seconds: float) -> bool:
    """Poll until the learner's Xero contact matches Wisenet; progress on stderr."""
    import asyncio

    started = time.monotonic()
    typer.echo(
        f"waiting up to {seconds / 60:g} min for learner {learner_id} to reach Xero "
        f"(a check every {core.poll_seconds:g} s; Ctrl-C stops waiting, the re-toggle stays)",
        err=True,
    )

    def progress(poll: int, elapsed: float, diagnosis: Diagnosis) -> None:
        minutes, secs = divmod(int(elapsed), 60)
        typer.echo(
            f"  check {poll} at {minutes}:{secs:02d}: {one_line(_blocking(diagnosis))[:120]}",
            err=True,
        )

    synced, diagnosis = asyncio.run(core.wait_until_synced(learner_id, seconds, progress))
    took = int(time.monotonic() - started)
    if synced:
        typer.echo(
            f"✓ learner {learner_id}: synced — the Xero contact matches Wisenet "
            f"(after {took // 60}:{took % 60:02d})"
        )
        return True
    typer.echo(f"✗ learner {learner_id}: not synced yet — {_blocking(diagnosis)}")
    return False


def finish_interrupted(*, explicit: bool = False, profile: str | None = None) -> int:
    """Finish every unfinished re-toggle in the journal (only `profile`'s when given), each
    through the sandbox or live profile it was started with; say so on stderr. Returns how
    many were finished."""
    import asyncio

    from diagnose import journal
    from diagnose.core import open_for_entry, recover_entry
    from diagnose.errors import DiagnoseError

    entries = journal.pending()
    for broken in journal.SET_ASIDE:
        typer.echo(
            f"diagnose: note: a damaged journal entry was set aside as {broken} (check that "
            'learner\'s "Sync to Xero" by hand if a re-toggle was interrupted)',
            err=True,
        )
    journal.SET_ASIDE.clear()
    finished = 0
    for entry in entries:
        if profile is not None and entry.profile != profile:
            continue
        try:
            core = open_for_entry(entry)
        except FileNotFoundError as gone:
            journal.finish(entry)  # its tenant file is gone: there is nothing left to tick
            typer.echo(
                f"diagnose: dropped an unfinished resync of learner {entry.learner_id}: its "
                f"sandbox file {gone} no longer exists",
                err=True,
            )
            continue
        except DiagnoseError as exc:
            typer.echo(f"diagnose: {exc}", err=True)
            if explicit:
                raise
            continue
        try:
            typer.echo(f"diagnose: {asyncio.run(recover_entry(core, entry))}", err=True)
            finished += 1
        except DiagnoseError as exc:
            typer.echo(
                f"diagnose: an interrupted resync of learner {entry.learner_id} "
                f"({entry.profile}) is still unfinished: {exc}",
                err=True,
            )
            if explicit:
                raise
    return finished


@fix_app.command("contact-code")
def fix_contact_code(
    kind: Annotated[str, typer.Argument(metavar="learner")],
    ref: Annotated[str, typer.Argument(metavar="ID", help="The learner's LearnerId.")],
    yes: YesOpt = False,
    dry_run: DryRunOpt = False,
    contact: Annotated[
        str | None,
        typer.Option(
            "--contact",
            metavar="CONTACT_ID",
            help="Use this look-alike, though it does not match the learner closely.",
        ),
    ] = None,
    sandbox: SandboxOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Give the learner's look-alike Xero contact the learner's Contact Code (RefInternal), when
    exactly one active contact matches the learner closely (or --contact names one) and none
    holds the code."""
    import asyncio

    from diagnose import remedy
    from diagnose.core import open_core

    if kind != "learner":
        raise UsageError("say 'diagnose fix contact-code learner ID'")
    core = open_core(profile, sandbox, writing=not dry_run)
    plan = asyncio.run(core.plan_code_fix(ref, contact or ""))
    fix = plan.fix
    if fix.done:
        said = _already_fixed(fix, core.profile.timezone)
        typer.echo(f"✓ {said}: nothing to fix, nothing written")
        return
    if fix.refusal:
        remedy.refuse(fix, where=plan.where)
        typer.echo(f"diagnose: will not set the Contact Code: {fix.refusal}.", err=True)
        if fix.manual:
            typer.echo(f"What to do instead: {fix.manual}", err=True)
        raise typer.Exit(int(ExitCode.CHECK_FAILED))
    lines = [f"In {plan.where.describe()}:", *plan.lines]
    if dry_run:
        typer.echo("\n".join(["Dry run: these writes would be made (none was):", *lines]))
        if plan.scope_refusal:
            typer.echo(f"diagnose: {plan.scope_refusal}", err=True)
        return
    core.refuse_without_scope(plan)  # before asking anyone to confirm what cannot be written
    refusal = _confirm(lines, yes, "fix contact-code", plan.where)
    if refusal:
        core.refuse(plan, f"learner {fix.learner.learner_id if fix.learner else ref}", refusal)
        raise UsageError(f"{refusal}: nothing written")
    typer.echo(f"✓ {asyncio.run(core.apply_code_fix(plan))}")


def _already_fixed(fix: Any, zone_name: str) -> str:
    """Whose the code is, and which run of diagnose set it when the audit log says so (two
    commands fixing one learner at once: the second finds the first's work)."""
    from datetime import datetime

    from diagnose import audit
    from diagnose.config import zone
    from diagnose.report.model import when_text

    said = f"{fix.contact_name} already holds Contact Code {fix.code}"
    subject = f"learner {fix.learner.learner_id}" if fix.learner else ""
    for entry in reversed(audit.entries(subject)):
        if entry.get("action") != "fix-contact-code" or entry.get("outcome") != "done":
            continue
        if fix.contact_id in str(entry.get("detail") or ""):
            try:
                moment = when_text(datetime.fromisoformat(str(entry.get("when"))), zone(zone_name))
            except ValueError:
                break
            return f"{said} (set by diagnose at {moment} for {entry.get('who', '?')})"
        break
    return said


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
        str, typer.Option("--rate-limit", help="Xero's calls a minute, as xero=60/min.")
    ] = "xero=60/min",
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
    """Serve the sandbox tenant on http://127.0.0.1:PORT, with Xero's limits (Ctrl-C stops)."""
    from diagnose import runner
    from diagnose.config import REDIRECT_URI
    from diagnose.sandbox.app import create_app
    from diagnose.sandbox.faults import parse_faults
    from diagnose.sandbox.identity import Identity
    from diagnose.sandbox.serve import Limits, Mix, parse_rate_limit, serve, with_behaviour

    shares = (fail_rate, drop_rate, throttle_rate, slow_rate, garble_rate)
    if not all(0 <= share <= 1 for share in shares) or sum(shares) > 1:
        raise UsageError("the --…-rate options are shares from 0 to 1, together at most 1")
    if not 0 < port < 65536:
        raise UsageError("--port must be from 1 to 65535")
    if latency_ms < 0 or slow_ms < 0:
        raise UsageError("--latency-ms and --slow-ms cannot be negative")
    limits = Limits(per_minute=parse_rate_limit(rate_limit), concurrent=concurrent)
    box = runner.open_sandbox(sandbox)  # while it serves, change the sandbox through it
    mix = Mix(fail_rate, drop_rate, throttle_rate, slow_rate, garble_rate, slow_ms)
    registered = tuple(redirect_uri or [REDIRECT_URI])
    xero = Identity(redirect_uris=registered)
    wisenet = Identity(checks_scopes=False, redirect_uris=registered)
    chosen = []
    if faults is not None:
        named = Path(faults)
        text = faults if faults.lstrip().startswith("[") else _read_faults(named)
        chosen = parse_faults(text)
    app = with_behaviour(
        create_app(
            box.tenant, on_write=box.save, identity=xero, wisenet_identity=wisenet, faults=chosen
        ),
        limits=limits,
        latency_ms=latency_ms,
        mix=mix,
        seed=seed,
        given=(lambda: xero.given + wisenet.given) if test_harness else None,
    )
    typer.echo(
        f"serving the {box.label} sandbox tenant on http://127.0.0.1:{port} "
        f"(Xero: {limits.per_minute} a minute, {limits.concurrent} at once); Ctrl-C stops",
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

    if not 1 <= learners <= 50_000:
        raise UsageError("--learners is from 1 to 50000")
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
    from diagnose import runner
    from diagnose.sandbox.workcopy import reset

    source, demo = runner.sandbox_source(sandbox)
    if reset(source, demo=demo):
        from diagnose.core import open_core

        open_core(None, sandbox).stale()  # what a scan kept of the old records is dropped
        typer.echo(f"the sandbox is back to {'the built-in demo' if demo else source}")
    else:
        typer.echo("nothing to reset: no write was made to this sandbox")


def audit_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    subject: Annotated[
        str | None, typer.Option("--subject", help='Only this subject, e.g. "learner 103".')
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", metavar="NAME", help="Only the writes made through NAME."),
    ] = None,
) -> None:
    """Show the audit log: every write diagnose made or refused — who, when, where (profile,
    organisation), before and after, and the result."""
    from diagnose import audit
    from diagnose.paths import audit_log
    from diagnose.textsafe import json_text

    entries = audit.entries(subject, profile)
    if as_json:
        typer.echo(json_text({"schema_version": 2, "log": str(audit_log()), "entries": entries}))
        return
    if not entries:
        typer.echo(f"no write recorded yet ({audit_log()})")
        return
    for e in entries:
        status = f" HTTP {e['api_status']}" if e.get("api_status") else ""
        where = f"{e.get('profile', 'sandbox')} · {e.get('tenant', '')}"
        typer.echo(
            one_line(
                f"{e.get('when')}  {e.get('who')}  {where}  {e.get('action')}  "
                f"{e.get('subject')}  {e.get('outcome')}{status}  {e.get('detail', '')}"
            )
        )
