"""The headless core that every command and every screen stands on.

`open_core()` is the one place that decides whether diagnose talks to the sandbox (the built-in
demo or a tenant file, served in-process) or to a live profile's Wisenet and Xero. The `Core` it
returns opens the sources the same way for both and offers the whole mission: diagnose, the
bulk fetch of a scan, resync (one learner or many), fix contact-code, recover and
wait-until-synced. The CLI and the TUI parse input, ask for confirmation and render results;
they never branch on sandbox or live themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagnose import remedy, runner, scan_cache
from diagnose.config import Profile, load_profile
from diagnose.errors import DiagnoseError, SourceError, UsageError
from diagnose.evidence import Evidence, RawEvidence
from diagnose.model import Diagnosis, ProblemKind, SubjectKind
from diagnose.plans import CodeFixPlan, Outcome, ResyncPlan
from diagnose.refs import parse_invoice_ref, parse_learner_ref
from diagnose.where import Where

if TYPE_CHECKING:
    from diagnose.model import ApiCall, Learner
    from diagnose.report.ticket import Sender
    from diagnose.runner import Sandbox
    from diagnose.sources.both import Sources
    from diagnose.sources.bulk import Bulk
    from diagnose.status import Line

SANDBOX_POLL = 15.0  # the sandbox's integration acts at once; a check is 3 calls, not 7
LIVE_POLL = 60.0  # Wisenet sends a learner to Xero within about five minutes: poll each minute


@dataclass
class Core:
    """One command's (or one TUI session's) way to the services."""

    profile: Profile
    box: Sandbox | None = None  # the sandbox it serves, when it is not a live profile
    sandbox_app: Any = None  # tests: a wrapped sandbox app, to watch or break it
    alerts: list[Any] | None = None  # an Event Alerts export's rows (None: the sandbox's own)
    cache_notes: list[str] = field(default_factory=list)  # what the last scan set aside

    @property
    def live(self) -> bool:
        return self.box is None

    @property
    def poll_seconds(self) -> float:
        return LIVE_POLL if self.live else SANDBOX_POLL

    def banner(self, organisation: str = "") -> str:
        """One line that says whose data this is; LIVE and SANDBOX cannot be confused."""
        if self.box is not None:
            return f"SANDBOX · {self.box.tenant.organisation} · sample data, not your organisation"
        named = f"{organisation} · " if organisation else ""
        return f"LIVE · {named}profile {self.profile.name} · real data: writes change it"

    @asynccontextmanager
    async def sources(self, calls: list[ApiCall] | None = None) -> AsyncIterator[Sources]:
        """The sandbox's or the live profile's clients; `calls` receives each call as it is
        made (for a progress line)."""
        if self.box is not None:
            from diagnose.sources.sandbox import sandbox_sources

            self.box.refresh()  # another command's writes since it was read
            async with sandbox_sources(
                self.box.tenant, app=self.sandbox_app, on_write=self.box.save, calls=calls
            ) as sources:
                if self.alerts is not None:
                    sources.alerts = self.alerts
                yield sources
        else:
            from diagnose.sources.live import live_sources

            async with live_sources(self.profile, calls) as sources:
                sources.alerts = self.alerts
                yield sources

    @asynccontextmanager
    async def writing(self, waiting: Callable[[str], None] | None = None) -> AsyncIterator[None]:
        """Around a write: on a sandbox, its writer lock, unless the command holds it already
        (the walkthrough, open for long, takes it for each write: `runner.taking_turns`);
        `waiting` is told when another command has it and the write waits."""
        if self.box is None or self.box.lock is not None:
            yield
            return
        async with runner.taking_turns(self.box, waiting):
            yield

    def done_writing(self) -> None:
        """The command's writes are made: other commands may change the sandbox from here on
        (a long wait for the sync does not keep them out). A later write takes its turn."""
        if self.box is not None and self.box.lock is not None:
            self.box.lock.release()
            self.box.lock = None

    def sender(self) -> Sender:
        """Who a support request comes from: the staff member (from the environment), this
        profile's Wisenet site and the organisation's time zone."""
        from diagnose.report.ticket import Sender

        wisenet = "" if self.profile.is_sandbox else self.profile.wisenet_label
        return Sender.from_env(wisenet=wisenet, zone=self.profile.timezone)

    async def where(self, sources: Sources) -> Where:
        """The organisation a write would land in, read from Xero's connections on a live
        profile (and chosen for the session when the sign-in left it open)."""
        if self.box is not None:
            tenant = self.box.tenant
            return Where(
                "sandbox", self.box.label, tenant.organisation, tenant.tenant_id or "", tenant.name
            )
        from diagnose import parse
        from diagnose.gather import organisation

        wanted = sources.xero.tenant_id
        chosen = organisation(await sources.xero.connections(), wanted)
        if chosen is None:
            raise UsageError(
                f"profile {self.profile.name!r} reaches no Xero organisation"
                + (f" with tenant id {wanted}" if wanted else "")
                + f": run 'diagnose status --profile {self.profile.name}' (nothing written)"
            )
        sources.xero.tenant_id = parse.text(chosen, "tenantId")
        return Where(
            self.profile.name,
            "",
            parse.text(chosen, "tenantName") or "(unnamed organisation)",
            sources.xero.tenant_id,
            self.profile.wisenet_label,
        )

    # -- diagnosis ---------------------------------------------------------------------------

    async def gather(
        self, kind: SubjectKind, ref: str, watch: list[ApiCall] | None = None
    ) -> RawEvidence:
        """The evidence for a learner or an invoice; a bad reference is refused before any
        credential is used. `watch` receives each call as it is answered (for a progress
        line)."""
        parse_learner_ref(ref) if kind is SubjectKind.LEARNER else parse_invoice_ref(ref)
        async with self.sources(watch) as sources:
            return await runner.gather_from(kind, ref, sources)

    @staticmethod
    def diagnose(raw: RawEvidence, only: Sequence[str] = ()) -> Diagnosis:
        return runner.diagnose(raw, only)

    async def status(self) -> list[Line]:
        """Whether the services answer: the lines of `diagnose status`."""
        from diagnose.status import live_status, sandbox_status

        if self.box is not None:
            return sandbox_status(self.box.tenant.organisation, self.box.copy.exists())
        return await live_status(self.profile)

    # -- the whole tenant --------------------------------------------------------------------

    def scan_folder(self) -> Path:
        """Where the scan keeps this tenant's pages."""
        if self.box is not None:
            return scan_cache.folder_for(scan_cache.sandbox_key(self.box.source))
        return scan_cache.folder_for(
            scan_cache.live_key(self.profile.name, self.profile.xero_tenant_id)
        )

    def scan_cache(self, *, fresh: bool) -> scan_cache.Cache:
        """The scan's page cache for this tenant (emptied with `fresh`)."""
        folder = self.scan_folder()
        if fresh:
            return scan_cache.Cache.emptied(folder)
        return scan_cache.Cache.load(folder)

    def stale(self, *resources: str) -> None:
        """A write changed these records: the next scan reads them again in full instead of
        trusting what it kept, and checks again only what the write changed."""
        scan_cache.Cache(self.scan_folder()).refetch(*resources)

    async def fetch_tenant(
        self,
        log: list[ApiCall],
        tick: Callable[[], None],
        *,
        fresh: bool = False,
        invoices_since: datetime | None = None,
    ) -> tuple[Bulk, str, str]:
        """Every record a scan needs, in bulk: (records, mode, organisation name). The calls
        are kept in `log` as they are made, for the progress line."""
        from diagnose.scan_fetch import fetch

        cache = self.scan_cache(fresh=fresh)
        self.cache_notes = cache.notes
        async with self.sources(log) as sources:
            bulk = await fetch(sources, tick, cache=cache, invoices_since=invoices_since)
            if self.box is not None:
                return bulk, sources.mode, self.box.tenant.organisation
            from diagnose import parse
            from diagnose.gather import organisation

            named = organisation(bulk.connections, sources.xero.tenant_id)
            name = parse.text(named, "tenantName") if named else ""
            return bulk, sources.mode, name or self.profile.name

    # -- re-toggling "Sync to Xero" -----------------------------------------------------------

    async def plan_resync(self, learner_ids: Sequence[int]) -> ResyncPlan:
        found: list[Learner | DiagnoseError] = []
        lines: list[str] = []
        async with self.sources() as sources:
            where = await self.where(sources)
            for learner_id in learner_ids:
                try:
                    found.append(await remedy.read_learner(sources.wisenet, learner_id))
                except DiagnoseError as exc:
                    found.append(exc)
            lines.append(f"In {where.describe()}:")
            for learner_id, learner in zip(learner_ids, found, strict=True):
                if isinstance(learner, DiagnoseError):
                    lines.append(f"learner {learner_id}: skipped — {learner}")
                    continue
                note = "" if learner.sync_to_xero else " (not ticked now: it will simply be ticked)"
                address = f"{sources.wisenet.learners_address}/{learner_id}"
                lines.append(f"{learner.label}{note} — {address}:")
                if held := await remedy.held_contact(sources.xero, learner):
                    lines.append(f"  {held}")  # a re-toggle alone will not reach Xero
                lines += [f"  {step}" for step in remedy.resync_plan(learner, sources.wisenet)]
        return ResyncPlan(where, list(learner_ids), found, lines)

    async def resync(
        self,
        plan: ResyncPlan,
        on_each: Callable[[Outcome], None] = lambda outcome: None,
        waiting: Callable[[str], None] | None = None,
    ) -> list[Outcome]:
        """Re-toggle every learner of the plan through one session, one after another
        (`waiting`: see `writing`)."""
        outcomes = [
            Outcome(learner_id, str(x), False, x)
            for learner_id, x in zip(plan.ids, plan.learners, strict=True)
            if isinstance(x, DiagnoseError)
        ]
        async with self.writing(waiting), self.sources() as sources:
            await self._same_place(sources, plan.where)
            for learner in plan.todo:
                try:
                    done = await remedy.resync(sources.wisenet, learner, where=plan.where)
                    outcome = Outcome(learner.learner_id, done.message, True)
                except DiagnoseError as exc:
                    outcome = Outcome(learner.learner_id, str(exc), False, exc)
                outcomes.append(outcome)
                on_each(outcome)
        if any(o.ok for o in outcomes):  # the integration then updates the contact too
            self.stale("learners", "contacts")
        return outcomes

    async def _same_place(self, sources: Sources, planned: Where) -> None:
        """Refuse to write when the profile now reaches another organisation than the one the
        person confirmed (a changed setting, another sign-in)."""
        now = await self.where(sources)
        if (now.organisation_id, now.wisenet) != (planned.organisation_id, planned.wisenet):
            raise UsageError(
                f"the profile now reaches {now.describe()}, not {planned.describe()} as "
                "planned (nothing written)"
            )

    async def wait_until_synced(
        self,
        learner_ids: Sequence[int],
        seconds: float,
        progress: Callable[[int, float, int, Diagnosis], None] = lambda *told: None,
    ) -> dict[int, tuple[bool, Diagnosis]]:
        """Check each learner at once, every `poll_seconds` and at the wait's end, until its
        contact matches Wisenet or is held in Xero (`waits.until_synced`). Each learner's last
        diagnosis, and whether it synced."""
        from diagnose.waits import until_synced

        return await until_synced(self.sources, learner_ids, seconds, self.poll_seconds, progress)

    # -- the Contact Code -----------------------------------------------------------------

    async def plan_code_fix(self, ref: str, contact_id: str = "") -> CodeFixPlan:
        """The Contact Code fix for a learner; `contact_id` chooses a weaker look-alike."""
        parse_learner_ref(ref)
        async with self.sources() as sources:
            raw = await runner.gather_from(SubjectKind.LEARNER, ref, sources)
            where = await self.where(sources)
            token = sources.token
            diagnosis = self.diagnose(raw)
            fix = remedy.plan_code_fix(diagnosis, Evidence(raw), contact_id)
            plan = CodeFixPlan(where, fix, diagnosis)
            if not (fix.refusal or fix.done):  # the exact requests, as the client builds them
                plan.steps = remedy.code_fix_plan(fix, plan.key, sources.xero)
        scopes = set(token.scope.split()) if token is not None and token.scope else None
        if scopes is not None and remedy.CONTACT_WRITE_SCOPE not in scopes:
            plan.scope_refusal = self.missing_scope()
        return plan

    def missing_scope(self) -> str:
        return remedy.missing_scope(self.profile.name, pkce=self.profile.xero_auth == "pkce")

    @staticmethod
    def refuse_without_scope(plan: CodeFixPlan) -> None:
        """Refuse (and record it) when the sign-in may not write contacts."""
        if plan.scope_refusal:
            remedy.refuse(plan.fix, where=plan.where, reason=plan.scope_refusal)
            raise remedy.Refusal(plan.scope_refusal)

    async def apply_code_fix(
        self, plan: CodeFixPlan, waiting: Callable[[str], None] | None = None
    ) -> str:
        self.refuse_without_scope(plan)
        async with self.writing(waiting), self.sources() as sources:
            await self._same_place(sources, plan.where)
            try:
                done = await remedy.apply_code_fix(
                    sources.xero, plan.fix, plan.key, where=plan.where
                )
                self.stale("contacts")
                return done
            except SourceError as exc:
                if exc.problem.kind is ProblemKind.AUTH and "403" in exc.problem.message:
                    raise remedy.RemedyError(
                        f"{exc.problem.message}; {self.missing_scope()}", exc.exit_code
                    ) from None
                raise

    def refuse(self, plan: CodeFixPlan | ResyncPlan, subject: str, reason: str) -> None:
        """Record a refusal (a confirmation not given) in the audit log."""
        from diagnose import audit

        action = "fix-contact-code" if isinstance(plan, CodeFixPlan) else "resync"
        audit.record(
            action=action, subject=subject, outcome="refused", where=plan.where, detail=reason
        )


def open_core(
    profile: str | None = None,
    sandbox: Path | None = None,
    *,
    writing: bool = False,
    sandbox_app: Any = None,
    alerts: Path | None = None,
) -> Core:
    """The one place that decides: `--profile` (else `$DIAGNOSE_PROFILE`, else the config's
    default) names a live profile, or the sandbox — `--sandbox FILE`, `$DIAGNOSE_SANDBOX`, or
    the built-in demo. `writing`: the command may write, so its audit log must be writable
    first (on a sandbox, each write then takes its turn: `Core.writing`).
    The Event Alerts are those of `alerts` (an export), else the profile's kept import, else
    (the sandbox) the tenant's own; a live profile without any has none."""
    from diagnose import audit
    from diagnose.sources import alerts_export

    chosen = load_profile(profile)
    if writing:
        audit.ready()  # a write whose audit line could not be kept is never started
    if alerts is not None:
        rows: list[Any] | None = alerts_export.read_export(alerts).rows
    else:
        kept = alerts_export.kept(chosen.name)
        rows = kept.rows if kept is not None else None
    if not chosen.is_sandbox:
        if sandbox is not None:
            raise UsageError(f"--sandbox goes with the sandbox profile, not {chosen.name!r}")
        return Core(chosen, alerts=rows)
    return Core(chosen, runner.open_sandbox(sandbox), sandbox_app, rows)
