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

if TYPE_CHECKING:
    from diagnose.model import Diagnosis
    from diagnose.runner import Sandbox

YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Make the writes without asking.")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Print the exact writes and make none of them.")
]
POLL_SECONDS = 15.0  # each poll is a full diagnosis (7 calls): 28 a minute, under Xero's 60

resync_app = typer.Typer(
    help='Untick and re-tick "Sync to Xero" safely, so the integration starts over.',
    no_args_is_help=False,
)
fix_app = typer.Typer(help="Repair what the checks found, after showing the exact writes.")
sandbox_app = typer.Typer(help="The built-in sandbox tenant.")


def sandbox_only(what: str, name: str | None = None) -> None:
    """Until live remedies land, refuse rather than quietly write to the sandbox instead."""
    from diagnose.config import load_profile

    profile = load_profile(name)
    if not profile.is_sandbox:
        raise UsageError(
            f"{what} works on the sandbox profile only for now, not on {profile.name!r} "
            "(nothing written)"
        )


def _confirm(plans: list[str], yes: bool, what: str) -> None:
    typer.echo("\n".join(plans), err=True)
    if yes:
        return
    if not sys.stdin.isatty():
        raise UsageError(f"{what} needs --yes when it is not run at a terminal (nothing written)")
    if not typer.confirm("Make these writes?", err=True):
        raise UsageError("nothing written")


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


async def _wait(sandbox: Sandbox, learner_id: int, seconds: float) -> tuple[bool, Diagnosis]:
    import asyncio

    from diagnose import runner
    from diagnose.model import Status, SubjectKind, TargetKind

    deadline = time.monotonic() + seconds
    while True:
        raw = await runner.gather_async(SubjectKind.LEARNER, str(learner_id), sandbox.tenant)
        diagnosis = runner.diagnose(raw)
        mine = {
            f.check_id: f.status for f in diagnosis.findings if f.target.kind is TargetKind.LEARNER
        }
        if all(
            mine.get(c) is Status.PASS
            for c in ("contact.found", "contact.active", "contact.in-sync")
        ):
            return True, diagnosis
        if time.monotonic() + POLL_SECONDS > deadline:
            return False, diagnosis
        await asyncio.sleep(POLL_SECONDS)


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
) -> None:
    """Untick and re-tick "Sync to Xero" safely, so the integration starts over."""
    if ctx.invoked_subcommand is not None:
        return
    if not recover:
        raise UsageError("say what to resync: 'diagnose resync learner ID…', or --recover")
    finished = finish_interrupted(explicit=True)
    if not finished:
        typer.echo("nothing to recover: no re-toggle was left unfinished")


@resync_app.command("learner")
def resync_learner(
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
    sandbox: SandboxOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Re-toggle "Sync to Xero" for one or more learners, with a journal and read-backs."""
    import asyncio

    from diagnose import remedy, runner
    from diagnose.errors import DiagnoseError
    from diagnose.sources.sandbox import sandbox_sources

    sandbox_only("resync", profile)
    learner_ids = _learner_ids(ids or [], from_file)
    seconds = parse_duration(wait) if wait is not None else None
    box = runner.open_sandbox(sandbox, writing=not dry_run)

    async def plan() -> list[Any]:
        found: list[Any] = []
        async with sandbox_sources(box.tenant) as sources:
            for learner_id in learner_ids:
                try:
                    found.append(await remedy.read_learner(sources.wisenet, learner_id))
                except DiagnoseError as exc:
                    found.append(exc)
        return found

    learners = asyncio.run(plan())
    plans = []
    for learner_id, learner in zip(learner_ids, learners, strict=True):
        if isinstance(learner, DiagnoseError):
            plans.append(f"learner {learner_id}: skipped — {learner}")
            continue
        note = "" if learner.sync_to_xero else " (not ticked now: it will simply be ticked)"
        plans.append(f"{learner.label}{note}, on the {box.label} sandbox:")
        plans += [f"  {step}" for step in remedy.resync_plan(learner, "/v1/learnersAU")]
    if dry_run:
        typer.echo("\n".join(["Dry run: these writes would be made (none was):", *plans]))
        return
    todo = [x for x in learners if not isinstance(x, DiagnoseError)]
    if not todo:
        raise UsageError("; ".join(str(x) for x in learners))
    _confirm(plans, yes, "resync")

    async def write(learner: Any) -> str:
        async with sandbox_sources(box.tenant, on_write=box.save) as sources:
            done = await remedy.resync(
                sources.wisenet, learner, sandbox=box.label, tenant=box.tenant.organisation
            )
        return done.message

    results: list[tuple[int, str, bool]] = []
    for learner_id, learner in zip(learner_ids, learners, strict=True):
        if isinstance(learner, DiagnoseError):
            results.append((learner_id, str(learner), False))
    with typer.progressbar(todo, label="re-toggling", file=sys.stderr, hidden=len(todo) < 2) as bar:
        for learner in bar:
            try:
                results.append((learner.learner_id, asyncio.run(write(learner)), True))
            except DiagnoseError as exc:
                if len(learner_ids) == 1:
                    raise
                results.append((learner.learner_id, str(exc), False))
    ok = all(done for _, _, done in results)
    for learner_id, message, done in results:
        typer.echo(f"{'✓' if done else '✗'} learner {learner_id}: {message}")
    if seconds is not None:
        for learner_id, _, done in results:
            if not done:
                continue
            synced, diagnosis = asyncio.run(_wait(box, learner_id, seconds))
            if synced:
                typer.echo(f"✓ learner {learner_id}: synced — the Xero contact matches Wisenet")
            else:
                ok = False
                typer.echo(f"✗ learner {learner_id}: not synced yet — {_blocking(diagnosis)}")
    if len(results) > 1:
        good = sum(1 for _, _, done in results if done)
        typer.echo(f"{good} of {len(results)} learners re-toggled", err=True)
    if not ok:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def finish_interrupted(*, explicit: bool = False) -> int:
    """Finish every unfinished re-toggle in the journal; say so on stderr. Returns how many."""
    import asyncio

    from diagnose import journal, remedy, runner
    from diagnose.errors import DiagnoseError
    from diagnose.sources.sandbox import sandbox_sources

    entries = journal.pending()
    finished = 0
    for entry in entries:
        source = None if entry.sandbox == "demo" else Path(entry.sandbox)
        if source is not None and not source.exists():
            journal.finish(entry)  # its tenant file is gone: there is nothing left to tick
            typer.echo(
                f"diagnose: dropped an unfinished resync of learner {entry.learner_id}: its "
                f"sandbox file {source} no longer exists",
                err=True,
            )
            continue
        try:
            box = runner.open_sandbox(source, writing=True)

            async def go(box: Sandbox = box, entry: journal.Entry = entry) -> str:
                async with sandbox_sources(box.tenant, on_write=box.save) as sources:
                    return await remedy.recover(
                        sources.wisenet, entry, tenant=box.tenant.organisation
                    )

            typer.echo(f"diagnose: {asyncio.run(go())}", err=True)
            finished += 1
        except DiagnoseError as exc:
            typer.echo(
                f"diagnose: an interrupted resync of learner {entry.learner_id} is still "
                f"unfinished: {exc}",
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
    sandbox: SandboxOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Give the learner's look-alike Xero contact the learner's Contact Code (RefInternal), when
    exactly one active contact is clearly the learner and none holds the code."""
    import asyncio

    from diagnose import remedy, runner
    from diagnose.evidence import Evidence
    from diagnose.model import SubjectKind
    from diagnose.sources.sandbox import sandbox_sources

    if kind != "learner":
        raise UsageError("say 'diagnose fix contact-code learner ID'")
    sandbox_only("fix contact-code", profile)
    box = runner.open_sandbox(sandbox, writing=not dry_run)
    raw = runner.gather(SubjectKind.LEARNER, ref, box.tenant)
    diagnosis = runner.diagnose(raw)
    fix = remedy.plan_code_fix(diagnosis, Evidence(raw))
    tenant = box.tenant.organisation
    if fix.refusal:
        remedy.refuse(fix, tenant=tenant)
        typer.echo(f"diagnose: will not set the Contact Code: {fix.refusal}.", err=True)
        if fix.manual:
            typer.echo(f"What to do instead: {fix.manual}", err=True)
        raise typer.Exit(int(ExitCode.CHECK_FAILED))
    key = remedy.new_idempotency_key()
    plans = [
        f"Set Contact Code {fix.code} on {fix.contact_name} ({box.label} sandbox):",
        *(f"  {step}" for step in remedy.code_fix_plan(fix, key)),
    ]
    if dry_run:
        typer.echo("\n".join(["Dry run: these writes would be made (none was):", *plans]))
        return
    _confirm(plans, yes, "fix contact-code")

    async def write() -> str:
        async with sandbox_sources(box.tenant, on_write=box.save) as sources:
            return await remedy.apply_code_fix(sources.xero, fix, key, tenant=tenant)

    typer.echo(f"✓ {asyncio.run(write())}")


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
    sandbox: SandboxOpt = None,
) -> None:
    """Serve the sandbox tenant on http://127.0.0.1:PORT, with Xero's limits (Ctrl-C stops)."""
    from diagnose import runner
    from diagnose.sandbox.app import create_app
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
    xero, wisenet = Identity(), Identity()
    app = with_behaviour(
        create_app(box.tenant, on_write=box.save, identity=xero, wisenet_identity=wisenet),
        limits=limits,
        latency_ms=latency_ms,
        mix=mix,
        seed=seed,
        given=lambda: xero.given + wisenet.given,
    )
    typer.echo(
        f"serving the {box.label} sandbox tenant on http://127.0.0.1:{port} "
        f"(Xero: {limits.per_minute} a minute, {limits.concurrent} at once); Ctrl-C stops",
        err=True,
    )
    serve(app, port)


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


@sandbox_app.command("reset")
def sandbox_reset(sandbox: SandboxOpt = None) -> None:
    """Forget every write made to the sandbox tenant: back to its source file."""
    from diagnose import runner
    from diagnose.sandbox.workcopy import reset

    source, demo = runner.sandbox_source(sandbox)
    if reset(source, demo=demo):
        typer.echo(f"the sandbox is back to {'the built-in demo' if demo else source}")
    else:
        typer.echo("nothing to reset: no write was made to this sandbox")


def audit_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    subject: Annotated[
        str | None, typer.Option("--subject", help='Only this subject, e.g. "learner 103".')
    ] = None,
) -> None:
    """Show the audit log: every write diagnose made or refused, who, when, and the result."""
    from diagnose import audit
    from diagnose.paths import audit_log
    from diagnose.textsafe import json_text, one_line

    entries = audit.entries(subject)
    if as_json:
        typer.echo(json_text({"schema_version": 1, "log": str(audit_log()), "entries": entries}))
        return
    if not entries:
        typer.echo(f"no write recorded yet ({audit_log()})")
        return
    for e in entries:
        status = f" HTTP {e['api_status']}" if e.get("api_status") else ""
        typer.echo(
            one_line(
                f"{e.get('when')}  {e.get('who')}  {e.get('action')}  {e.get('subject')}  "
                f"{e.get('outcome')}{status}  {e.get('detail', '')}"
            )
        )
