"""The walkthrough's writes — the re-toggle and the Contact Code fix: the plan, a confirmation
that needs `y` (or the organisation's name on a live profile), then the write and a re-run."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.screen import Screen

from diagnose import remedy
from diagnose.core import Core
from diagnose.errors import DiagnoseError
from diagnose.model import Diagnosis, Learner, Status
from diagnose.plans import CodeFixPlan, ResyncPlan
from diagnose.textsafe import one_line
from diagnose.tui.dialogs import ConfirmScreen, TypedConfirmScreen
from diagnose.where import Where

RETOGGLE_NO_LEARNER = "there is no Wisenet learner in this diagnosis to re-toggle"
NO_LOST_CODE = "the checks found no lost Contact Code to restore (contact.found did not fail)"


class WriteActions(Screen[tuple[str, Any] | None]):
    """`t` and `k` of the walkthrough; the screen provides the diagnosis and the re-run."""

    core: Core
    diagnosis: Diagnosis | None

    def learner(self) -> Learner | None:
        raise NotImplementedError

    def action_rerun(self) -> None:
        raise NotImplementedError

    def action_retoggle(self) -> None:
        learner = self.learner()
        if learner is None:
            self.notify(RETOGGLE_NO_LEARNER, severity="warning")
            return
        self.plan_retoggle(learner)

    def waiting(self, message: str) -> None:
        """Another command has the sandbox: the write waits for it."""
        self.notify(message, title="Waiting", timeout=10)

    def confirm(self, title: str, lines: list[str], where: Where, go: Any, refused: Any) -> None:
        """The plan, then y on the sandbox, or the organisation's name typed on a live one."""
        phrase = where.confirm_phrase
        if phrase is None:
            screen = ConfirmScreen(title, lines, where.describe())
            self.app.push_screen(screen, lambda yes: go() if yes else None)
            return

        def typed(text: str | None) -> None:
            if text is None:
                return  # cancelled
            reason = where.refusal(text)
            if not reason:
                go()
                return
            refused(reason)
            self.notify(f"{reason}: nothing written", title="Not confirmed", severity="error")

        self.app.push_screen(TypedConfirmScreen(title, lines, phrase), typed)

    @work(exclusive=True, group="remedy", exit_on_error=False)
    async def plan_retoggle(self, learner: Learner) -> None:
        try:
            plan = await self.core.plan_resync([learner.learner_id])
        except DiagnoseError as exc:
            self.notify(str(exc), title="Cannot re-toggle", severity="error", timeout=15)
            return
        if not plan.todo:
            self.notify(str(plan.learners[0]), title="Cannot re-toggle", severity="error")
            return
        subject = f"learner {learner.learner_id}"
        self.confirm(
            f'Re-toggle "Sync to Xero" for {one_line(learner.label)}',
            plan.lines,
            plan.where,
            lambda: self.retoggle(plan),
            lambda reason: self.core.refuse(plan, subject, reason),
        )

    @work(exclusive=True, group="remedy", exit_on_error=False)
    async def retoggle(self, plan: ResyncPlan) -> None:
        try:
            outcome = (await self.core.resync(plan, waiting=self.waiting))[0]
        except DiagnoseError as exc:
            self.notify(str(exc), title="Nothing re-toggled", severity="error", timeout=15)
            return
        if not outcome.ok:
            self.notify(outcome.message, title="Re-toggle did not finish", severity="error")
            return
        self.notify(outcome.message, title="Re-toggled")
        self.action_rerun()

    def action_fix_code(self) -> None:
        learner = self.learner()
        if learner is None or not self.lost_code():
            self.notify(NO_LOST_CODE, severity="warning")
            return
        self.plan_fix_code(learner)

    @work(exclusive=True, group="remedy", exit_on_error=False)
    async def plan_fix_code(self, learner: Learner) -> None:
        try:
            plan = await self.core.plan_code_fix(str(learner.learner_id))
        except DiagnoseError as exc:
            self.notify(str(exc), title="Cannot fix the Contact Code", severity="error")
            return
        fix = plan.fix
        if fix.done:  # fixed meanwhile, by another command or in Xero
            self.notify(
                f"{one_line(fix.contact_name)} already holds Contact Code {fix.code}: nothing "
                "to fix, nothing written",
                title="Nothing to fix",
            )
            self.action_rerun()
            return
        if fix.refusal or plan.scope_refusal:
            reason = fix.refusal or plan.scope_refusal
            remedy.refuse(fix, where=plan.where, reason=reason)
            advice = f" {fix.manual}" if fix.manual else ""
            self.notify(
                f"Will not set the Contact Code: {reason}.{advice}",
                title="Nothing written",
                severity="warning",
                timeout=20,
            )
            return
        self.confirm(
            f"Set Contact Code {fix.code} on {one_line(fix.contact_name)}",
            plan.lines,
            plan.where,
            lambda: self.fix_code(plan),
            lambda reason: self.core.refuse(plan, f"learner {learner.learner_id}", reason),
        )

    @work(exclusive=True, group="remedy", exit_on_error=False)
    async def fix_code(self, plan: CodeFixPlan) -> None:
        try:
            message = await self.core.apply_code_fix(plan, waiting=self.waiting)
        except DiagnoseError as exc:
            self.notify(str(exc), title="Contact Code not set", severity="error", timeout=20)
            return
        self.notify(message, title="Contact Code restored")
        self.action_rerun()

    def lost_code(self) -> bool:
        """The learner's contact.found failed: a Contact Code may be restorable."""
        if self.diagnosis is None or self.learner() is None:
            return False
        return any(
            f.check_id == "contact.found" and f.status is Status.FAIL
            for f in self.diagnosis.findings
        )
