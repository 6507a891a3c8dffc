"""The commands that write: `resync` and `fix contact-code`.

Kept apart from the read-only commands in `diagnose.cli`; heavy modules are imported inside each
command, as there.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from diagnose.cli.asking import confirm, shown, waiting
from diagnose.cli.learner_ids import learner_ids_named
from diagnose.cli.options import ProfileOpt, SandboxOpt
from diagnose.errors import ExitCode, UsageError
from diagnose.textsafe import one_line

if TYPE_CHECKING:
    from diagnose.core import Core
    from diagnose.model import Diagnosis

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


def parse_duration(text: str) -> float:
    """`90`, `90s`, `10m`, `1h` → seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if match is None or float(match.group(1)) <= 0:
        raise UsageError(f"--wait {text!r}: give a duration such as 90s, 10m or 1h")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


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
        Path | None,
        typer.Option(
            "--from-file",
            metavar="FILE",
            help="LearnerIds, one a line; or a 'diagnose scan --csv' file (its learners).",
        ),
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

    from diagnose.core import open_core
    from diagnose.plans import Outcome

    learner_ids = learner_ids_named(ids or [], from_file)
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
        typer.echo(shown(["Dry run: these writes would be made (none was):", *plan.lines]))
    if not plan.todo:  # the same answer with --dry-run as without: nothing could be done
        raise UsageError("; ".join(str(x) for x in plan.learners))
    if dry_run:
        return
    refusal = confirm(plan.lines, yes, "resync", plan.where)
    if refusal:
        for learner in plan.todo:
            core.refuse(plan, f"learner {learner.learner_id}", refusal)
        raise UsageError(f"{refusal}: nothing written")

    with typer.progressbar(
        length=len(plan.todo), label="re-toggling", file=sys.stderr, hidden=len(plan.todo) < 2
    ) as bar:

        def done(outcome: Outcome) -> None:
            bar.update(1)

        outcomes = asyncio.run(core.resync(plan, done, waiting=waiting))
    if len(learner_ids) == 1 and outcomes[0].error is not None:
        raise outcomes[0].error
    ok = all(o.ok for o in outcomes)
    for o in outcomes:
        typer.echo(f"{'✓' if o.ok else '✗'} learner {o.learner_id}: {o.message}")
    ticked = [o.learner_id for o in outcomes if o.ok]
    if len(outcomes) > 1:
        typer.echo(f"{len(ticked)} of {len(outcomes)} learners re-toggled", err=True)
    if seconds is not None and ticked and not _waited(core, ticked, seconds):
        ok = False
    if not ok:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def _waited(core: Core, learner_ids: list[int], seconds: float) -> bool:
    """Poll until each learner's Xero contact matches Wisenet, all within the one wait; progress
    on stderr, each learner's end on stdout. True when every one of them synced."""
    import asyncio

    from diagnose.cli.scan import in_place
    from diagnose.remedy.synced import held_in_xero, synced
    from diagnose.render.text import fitted
    from diagnose.textsafe import duration

    every = duration(min(core.poll_seconds, seconds) if seconds > 0 else core.poll_seconds)
    who = (
        f"learner {learner_ids[0]}"
        if len(learner_ids) == 1
        else f"{len(learner_ids)} learners ({', '.join(map(str, learner_ids))})"
    )
    said = (
        f"waiting up to {duration(seconds)} for {who} to reach Xero (a check every {every}; "
        "Ctrl-C stops waiting, the re-toggle stays)"
    )
    typer.echo("\n".join(fitted(said, "  ")), err=True)
    when: dict[int, str] = {}

    def progress(poll: int, elapsed: float, learner_id: int, diagnosis: Diagnosis) -> None:
        minutes, secs = divmod(int(elapsed), 60)
        when[learner_id] = f"{minutes}:{secs:02d}"
        whose = f", learner {learner_id}" if len(learner_ids) > 1 else ""
        state = "synced" if synced(diagnosis) else one_line(_blocking(diagnosis))
        line = f"  check {poll} at {when[learner_id]}{whose}: {state}"
        typer.echo(in_place(line).rstrip(), err=True)  # a line a check, cut to the terminal

    ends = asyncio.run(core.wait_until_synced(learner_ids, seconds, progress))
    for_it = " for it" if len(learner_ids) > 1 else ""
    for learner_id, (done, diagnosis) in ends.items():
        if done:
            typer.echo(
                f"✓ learner {learner_id}: synced — the Xero contact matches Wisenet "
                f"(after {when[learner_id]})"
            )
        elif (held := held_in_xero(diagnosis)) is not None:  # no wait can help: what to do
            said = (
                f"✗ learner {learner_id}: cannot reach Xero until its contact is put right "
                f"there, so the wait{for_it} stopped at {when[learner_id]} — "
                f"{one_line(held.message)}"
            )
            again = f"(`diagnose resync learner {learner_id}` re-ticks it.)"
            fix = f"Fix: {one_line(held.fix or '')} {again}"
            typer.echo("\n".join([*fitted(said, "  "), *fitted(fix, "    ", first="  ")]))
        else:
            said = f"✗ learner {learner_id}: not synced yet — {one_line(_blocking(diagnosis))}"
            typer.echo("\n".join(fitted(said, "  ")))
    return all(done for done, _ in ends.values())


def finish_interrupted(*, explicit: bool = False, profile: str | None = None) -> int:
    """Finish every unfinished re-toggle in the journal (only `profile`'s when given), each
    through the sandbox or live profile it was started with; say so on stderr. Returns how
    many were finished."""
    import asyncio

    from diagnose import journal
    from diagnose.errors import DiagnoseError

    entries = journal.pending()
    for broken in journal.SET_ASIDE:
        typer.echo(
            f"diagnose: note: a damaged journal entry was set aside as {broken} (check that "
            'learner\'s "Sync to Xero" by hand if a re-toggle was interrupted)',
            err=True,
        )
    journal.SET_ASIDE.clear()
    if not entries:  # the usual case: no network stack is loaded just to learn it
        return 0
    from diagnose.recovery import open_for_entry, recover_entry

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
        finally:
            core.done_writing()  # the command that found the entry goes on without it
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
        typer.echo(shown(["Dry run: these writes would be made (none was):", *lines]))
        if plan.scope_refusal:
            typer.echo(f"diagnose: {plan.scope_refusal}", err=True)
        return
    core.refuse_without_scope(plan)  # before asking anyone to confirm what cannot be written
    refusal = confirm(lines, yes, "fix contact-code", plan.where)
    if refusal:
        core.refuse(plan, f"learner {fix.learner.learner_id if fix.learner else ref}", refusal)
        raise UsageError(f"{refusal}: nothing written")
    typer.echo(f"✓ {asyncio.run(core.apply_code_fix(plan, waiting=waiting))}")


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
