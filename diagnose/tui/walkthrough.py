"""The walkthrough: every check in the FAQ's order, filled in as the answers arrive, with the
actions one key away. Network work runs in workers; the screen never freezes."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Markdown, Static
from textual.widgets.data_table import ColumnKey

from diagnose import audit, engine, remedy
from diagnose.config import zone
from diagnose.core import CodeFixPlan, Core, ResyncPlan
from diagnose.errors import AmbiguousError, DiagnoseError
from diagnose.evidence import Evidence, RawEvidence, Unavailable
from diagnose.model import (
    VERDICTS,
    ApiCall,
    Diagnosis,
    Finding,
    Learner,
    ProblemKind,
    Service,
    Status,
    SubjectKind,
    TargetKind,
)
from diagnose.paths import data_dir, write_atomically
from diagnose.render.text import diagnosis_text
from diagnose.report import Report, build_report
from diagnose.textsafe import one_line, strip_ansi
from diagnose.tui import prefs
from diagnose.tui.detail import DetailScreen, pane_markdown
from diagnose.tui.dialogs import ConfirmScreen, FileNameScreen, TypedConfirmScreen, open_links
from diagnose.where import Where

RETOGGLE_NO_LEARNER = "there is no Wisenet learner in this diagnosis to re-toggle"
NO_LOST_CODE = "the checks found no lost Contact Code to restore (contact.found did not fail)"
# Each status readable at WCAG AA (4.5:1 or more) on the theme's background: light colours on
# dark themes, dark ones on light themes, and bold/reverse when NO_COLOR asks for no colour.
DARK = {
    Status.PASS: "bold #7ee787",
    Status.WARN: "bold #ffb454",
    Status.FAIL: "bold #ff7b72",
    Status.SKIP: "#a0a0a0",
    Status.ERROR: "bold #d2a8ff",
}
LIGHT = {
    Status.PASS: "bold #116329",
    Status.WARN: "bold #8a4600",
    Status.FAIL: "bold #b00020",
    Status.SKIP: "#595959",
    Status.ERROR: "bold #7a1fa2",
}
PLAIN = {
    Status.PASS: "bold",
    Status.WARN: "bold underline",
    Status.FAIL: "bold reverse",
    Status.SKIP: "",
    Status.ERROR: "bold reverse",
}


def status_style(status: Status, dark: bool) -> str:
    if os.environ.get("NO_COLOR"):
        return PLAIN[status]
    return (DARK if dark else LIGHT)[status]


CAUSES = {  # why a check could not be decided, in words
    ProblemKind.UNREACHABLE: "Wisenet or Xero could not be reached",
    ProblemKind.AUTH: "our sign-in was refused",
    ProblemKind.RATE_LIMITED: "Xero's call limit was reached",
    ProblemKind.TIMEOUT: "an answer took too long",
    ProblemKind.BAD_RESPONSE: "an answer could not be read",
    ProblemKind.NOT_FETCHED: "an earlier answer was missing",
    ProblemKind.WRONG_ADDRESS: "a profile setting names the wrong address",
}
NOT_YET = "the diagnosis has not finished yet"
RESULT_MIN = 24
FIXED_COLUMNS = 1 + 23 + 9 + 4 * 2 + 2  # the other columns, their padding and the scrollbar
# The selected check in full: beside the table on a wide screen, under it on a tall one of 120
# columns (where the Result column keeps its width), not at all on a small one.
BESIDE_FROM = 160
BELOW_FROM = (120, 36)


def waiting_text(calls: list[ApiCall], seconds: float) -> str:
    """While the answers come: each service's answered calls, its retries, the time waited."""
    parts = []
    for service, name in ((Service.WISENET, "Wisenet"), (Service.XERO, "Xero")):
        mine = [c for c in calls if c.service is service]
        answered = sum(1 for c in mine if c.status is not None and c.status < 500)
        retried = len(mine) - answered
        state = f"{answered} answered" + (f", {retried} retried" if retried else "")
        parts.append(f"{name}: {state if mine else 'asking'}")
    return f"Asking Wisenet and Xero… {' · '.join(parts)} · {seconds:.0f} s"


def _cut(text: str, width: int) -> str:
    """`text` in `width` cells, ending in "…" when it had to be cut (never cut silently)."""
    return text if len(text) <= width else text[: max(width - 1, 0)].rstrip() + "…"


def _for(finding: Finding) -> str:
    kind = finding.target.kind
    if kind is TargetKind.INVOICE:
        return finding.target.label.removeprefix("invoice ")
    return "" if kind is TargetKind.TENANT else "learner"


class WalkthroughScreen(Screen[tuple[str, Any] | None]):
    DEFAULT_CSS = """
    WalkthroughScreen #where { color: $text-muted; padding: 0 1; }
    WalkthroughScreen #where.live { color: $text; background: $error; text-style: bold; }
    WalkthroughScreen #headline { text-style: bold; padding: 0 1; }
    WalkthroughScreen #body { height: 1fr; }
    WalkthroughScreen #checks { height: 1fr; width: 1fr; }
    WalkthroughScreen #body.beside { layout: horizontal; }
    WalkthroughScreen #pane { display: none; padding: 0 1; }
    WalkthroughScreen #body.beside #pane { display: block; width: 2fr; height: 1fr;
                                           border-left: solid $primary; }
    WalkthroughScreen #body.beside #checks { width: 3fr; }
    WalkthroughScreen #body.below #pane { display: block; height: 12; border-top: solid $primary; }
    WalkthroughScreen #filter { display: none; height: 1; border: none; padding: 0 1; }
    WalkthroughScreen #filter.shown { display: block; }
    WalkthroughScreen #verdict { padding: 0 1; height: auto; max-height: 3; }
    """
    BINDINGS = [
        Binding("question_mark", "app.help", "Help", tooltip="Every key, and what ✓ ! ✗ – ☠ mean"),
        Binding(
            "enter", "open", "Details", tooltip="Open the selected check in full", id="details"
        ),
        Binding("n", "next_problem", "Next ✗", tooltip="The next failure or warning", id="next"),
        Binding("N,shift+n", "previous_problem", "Prev ✗", tooltip="The previous one", show=False),
        Binding("f,p", "problems", "Failures", tooltip="Only failures and warnings; again: all"),
        Binding(
            "slash", "filter", "Filter", tooltip="Show the checks whose text holds what you type"
        ),
        Binding("home", "first_row", "First", tooltip="The first check", show=False, priority=True),
        Binding("end", "last_row", "Last", tooltip="The last check", show=False, priority=True),
        Binding("r", "rerun", "Re-run", tooltip="Ask Wisenet and Xero again", id="rerun"),
        Binding("o", "open_link", "Open", tooltip="Open the check's record in Xero", show=False),
        Binding(
            "t", "retoggle", "Re-toggle", tooltip='Untick and re-tick "Sync to Xero"', id="retoggle"
        ),
        Binding(
            "k",
            "fix_code",
            "Fix code",
            tooltip="Give the learner's Xero contact back its lost Contact Code",
            id="fix-code",
        ),
        Binding("w", "report", "Report", tooltip="Write the Word support request", id="report"),
        Binding(
            "s",
            "save",
            "Save",
            tooltip="Save the evidence as a JSON snapshot",
            id="save",
            show=False,
        ),
        Binding("c", "copy", "Copy", tooltip="Copy the diagnosis as text", id="copy", show=False),
        Binding("escape", "back", "Back", tooltip="Back to the start screen", id="back"),
    ]

    def __init__(self, kind: SubjectKind, ref: str, core: Core) -> None:
        super().__init__()
        self.kind = kind
        self.ref = ref
        self.core = core
        self.raw: RawEvidence | None = None
        self.diagnosis: Diagnosis | None = None
        self.report_model: Report | None = None
        self.messages: dict[str, str] = {}  # each row's whole result, cut to fit when shown
        self.only_problems = False
        self.filter_text = ""
        self.filling = 0
        self.kept_row = ""  # the check the cursor was on when `r` asked again

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(
            one_line(self.core.banner()),
            id="where",
            classes="live" if self.core.live else "sandbox",
        )
        yield Static(f"{self.kind.value} {one_line(self.ref)}", id="headline")
        table: DataTable[Any] = DataTable(id="checks", cursor_type="row", zebra_stripes=True)
        table.add_column("", key="glyph", width=1)
        table.add_column("Check", key="check", width=23)
        table.add_column("For", key="for", width=9)
        table.add_column("Result", key="result", width=RESULT_MIN)
        with Container(id="body"):
            yield table
            with VerticalScroll(id="pane"):
                yield Markdown("", id="pane-text")
        yield Input(placeholder="filter: part of a check, invoice or result", id="filter")
        yield Static("", id="verdict")
        yield Footer()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self.restyle)
        self.load()

    # -- running the diagnosis -----------------------------------------------------------------

    @work(exclusive=True, group="diagnosis", exit_on_error=False)
    async def load(self) -> None:
        table = self.query_one("#checks", DataTable)
        verdict = self.query_one("#verdict", Static)
        self.waiting_rows()
        watch: list[ApiCall] = []
        started = time.monotonic()

        def progress() -> None:
            verdict.update(waiting_text(watch, time.monotonic() - started))

        progress()
        ticker = self.set_interval(0.5, progress)
        try:
            raw = await self.core.gather(self.kind, self.ref, watch)
        except AmbiguousError as exc:
            self.dismiss(("choose", exc.choices))
            return
        except DiagnoseError as exc:
            self.dismiss(("error", str(exc)))
            return
        except Exception as exc:  # a bug: say so on screen, keep the app alive
            verdict.update(
                Text(f"☠ Could not diagnose: {type(exc).__name__}: {exc}. Press r to retry.")
            )
            return
        finally:
            ticker.stop()
        diagnosis = self.core.diagnose(raw)
        self.raw, self.diagnosis, self.report_model = raw, diagnosis, None
        prefs.remember(self.core.profile.name, self.kind.value, self.ref, diagnosis.headline)
        self.query_one("#where", Static).update(one_line(self.core.banner(raw.tenant)))
        self.query_one("#headline", Static).update(self.trail())
        await self.fill(diagnosis)
        verdict.update(self.verdict_text(diagnosis))
        self.refresh_bindings()
        table.focus()
        kept, self.kept_row = self.kept_row, ""
        if kept and kept in table.rows:  # asked again: the same check as before
            self.call_after_refresh(table.move_cursor, row=table.get_row_index(kept))
            self.notify(f"Asked again: {self.verdict_text(diagnosis).plain}", title="Re-run")
        else:
            self.call_after_refresh(self.action_next_problem, -1)  # the first failure, in view

    def waiting_rows(self) -> None:
        """While the answers come: the checks that will run, each waiting for its answers
        (a learner's invoices are known only once Xero has answered)."""
        table = self.query_one("#checks", DataTable)
        table.clear()
        self.messages = {}
        kinds = {"all": "", "both": "learner", "learner": "learner"}
        if self.kind is SubjectKind.INVOICE:
            kinds = {**kinds, "both": self.ref.upper(), "invoice": self.ref.upper()}
        pending = Text("·", style=self.style_of(Status.SKIP))
        for check in engine.load_catalogue():
            if check.applies_to in kinds:
                where = one_line(kinds[check.applies_to])
                table.add_row(pending, check.id, where, "waiting for the answers…")

    def trail(self, *more: str) -> str:
        """Where the person is: Start › the subject (› the check)."""
        here = self.diagnosis.headline if self.diagnosis else f"{self.kind.value} {self.ref}"
        return one_line(" › ".join(("Start", here, *more)))

    async def fill(self, diagnosis: Diagnosis) -> None:
        """The rows, streamed in; only failures, warnings and undecided checks when `p` asked,
        only those holding the filter's text when `/` gave one."""
        table = self.query_one("#checks", DataTable)
        table.clear()
        self.filling += 1
        mine = self.filling  # a later fill (a key typed meanwhile) takes over from this one
        self.messages = {}
        fits = self.result_width()
        table.columns[ColumnKey("result")].width = fits
        wanted = self.filter_text.casefold()
        for finding in diagnosis.findings:
            if self.only_problems and not finding.status.noteworthy:
                continue
            key = f"{finding.check_id}|{finding.target.key}"
            message = one_line(finding.message)
            words = f"{finding.check_id} {_for(finding)} {message} {finding.status.value}"
            if wanted and wanted not in words.casefold():
                continue
            self.messages[key] = message
            table.add_row(
                Text(finding.status.glyph, style=self.style_of(finding.status)),
                finding.check_id,
                one_line(_for(finding)),
                _cut(message, fits),
                key=key,
            )
            await asyncio.sleep(0)  # each row shows as it is added
            if self.filling != mine:
                return
        self.show_pane()

    async def action_problems(self) -> None:
        """Show only what failed, warned or could not be decided; again: everything."""
        if self.diagnosis is None:
            return
        self.only_problems = not self.only_problems
        await self.refill()

    async def refill(self) -> None:
        if self.diagnosis is None:
            return
        await self.fill(self.diagnosis)
        self.query_one("#verdict", Static).update(self.verdict_text(self.diagnosis))
        self.action_next_problem(start=-1)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("shown")
        box.focus()

    async def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.filter_text = event.value.strip()
        await self.refill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()  # the filter stays; the table takes the keys again
        if not self.filter_text:
            event.input.remove_class("shown")
        self.query_one("#checks", DataTable).focus()

    def pane_place(self) -> str:
        """Where the selected check is shown in full: "beside", "below" or "" (nowhere)."""
        width, height = self.size
        if width >= BESIDE_FROM:
            return "beside"
        return "below" if width >= BELOW_FROM[0] and height >= BELOW_FROM[1] else ""

    def result_width(self) -> int:
        """The Result column takes the width the others (and a pane beside) leave."""
        table = self.size.width * 3 // 5 if self.pane_place() == "beside" else self.size.width
        return max(RESULT_MIN, table - FIXED_COLUMNS)

    def on_resize(self) -> None:
        table = self.query_one("#checks", DataTable)
        body = self.query_one("#body", Container)
        place = self.pane_place()
        for name in ("beside", "below"):
            body.set_class(place == name, name)
        self.show_pane()
        fits = self.result_width()
        column = table.columns.get(ColumnKey("result"))
        if column is None or column.width == fits:
            return
        column.width = fits
        for key, message in self.messages.items():
            if key in table.rows:
                table.update_cell(key, "result", _cut(message, fits))
        table.refresh()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_pane()

    def show_pane(self) -> None:
        """The selected check in full beside the table, when the screen is wide enough."""
        if not self.pane_place():
            return
        finding = self.finding_at_cursor()
        text = pane_markdown(finding) if finding else ""
        if text != getattr(self, "_pane_shown", None):
            self._pane_shown = text
            self.query_one("#pane-text", Markdown).update(text)

    def problem_rows(self) -> list[int]:
        """The rows of failures, undecided checks and warnings, in table order."""
        if self.diagnosis is None:
            return []
        table = self.query_one("#checks", DataTable)
        bad = {
            f"{f.check_id}|{f.target.key}" for f in self.diagnosis.findings if f.status.noteworthy
        }
        return [table.get_row_index(key) for key in table.rows if key.value in bad]

    def action_next_problem(self, start: int | None = None) -> None:
        table = self.query_one("#checks", DataTable)
        here = table.cursor_row if start is None else start
        rows = self.problem_rows()
        after = [r for r in rows if r > here] or rows[:1]
        if after:
            table.move_cursor(row=after[0], scroll=True)

    def action_previous_problem(self) -> None:
        table = self.query_one("#checks", DataTable)
        rows = self.problem_rows()
        before = [r for r in rows if r < table.cursor_row] or rows[-1:]
        if before:
            table.move_cursor(row=before[-1], scroll=True)

    def action_first_row(self) -> None:
        self.query_one("#checks", DataTable).move_cursor(row=0, scroll=True)

    def action_last_row(self) -> None:
        table = self.query_one("#checks", DataTable)
        table.move_cursor(row=max(table.row_count - 1, 0), scroll=True)

    def style_of(self, status: Status) -> str:
        return status_style(status, self.app.current_theme.dark)

    def restyle(self, *_: object) -> None:
        """The theme changed: the glyphs and the verdict in its colours."""
        if self.diagnosis is None:
            return
        table = self.query_one("#checks", DataTable)
        for f in self.diagnosis.findings:
            key = f"{f.check_id}|{f.target.key}"
            if key in table.rows:
                table.update_cell(key, "glyph", Text(f.status.glyph, style=self.style_of(f.status)))
        self.query_one("#verdict", Static).update(self.verdict_text(self.diagnosis))

    def verdict_text(self, d: Diagnosis) -> Text:
        named = ((Status.FAIL, "failed"), (Status.WARN, "warned"), (Status.ERROR, "undecided"))
        counts = " · ".join(
            [f"{d.count(s)} {word}" for s, word in named if d.count(s)]
            + [f"{d.count(Status.PASS)} passed"]
        )
        if d.status is Status.ERROR:
            causes = sorted({CAUSES.get(f.cause, f.cause.value) for f in d.findings if f.cause})
            return Text(
                f"☠ Incomplete: {'; '.join(causes) or 'a call was not answered'}. "
                f"Press r to retry. {counts}",
                style=self.style_of(Status.ERROR),
            )
        hint = {Status.FAIL: " Enter on a ✗ shows the fix."}.get(d.status, "")
        head = f"{d.status.glyph} {VERDICTS[d.status]}{hint}"
        shown = " · showing problems only (f: all)" if self.only_problems else ""
        if self.filter_text:
            rows = self.query_one("#checks", DataTable).row_count
            shown += f" · filter “{one_line(self.filter_text)}”: {rows} shown (Esc clears)"
        return Text(f"{head} {counts} · {self.checked(d)}{shown}", style=self.style_of(d.status))

    def checked(self, d: Diagnosis) -> str:
        """When the answers came, on the organisation's clock."""
        place = zone(self.core.profile.timezone)
        local = d.taken_at.astimezone(place) if place else d.taken_at
        return f"checked {local:%H:%M} {local.tzname() or 'UTC'}"

    def finding_at_cursor(self) -> Finding | None:
        if self.diagnosis is None:
            return None
        table = self.query_one("#checks", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next(
            (f for f in self.diagnosis.findings if f"{f.check_id}|{f.target.key}" == key), None
        )

    def report(self) -> Report:
        if self.diagnosis is None or self.raw is None:
            raise RuntimeError("no diagnosis yet")
        if self.report_model is None:
            self.report_model = build_report(
                self.diagnosis,
                Evidence(self.raw),
                remedies=audit.entries(),
                sender=self.core.sender(),
            )
        return self.report_model

    # -- actions ----------------------------------------------------------------------------------

    def learner(self) -> Learner | None:
        if self.raw is None:
            return None
        try:
            return Evidence(self.raw).learner
        except Unavailable:
            return None

    def why_not(self, action: str) -> str:
        """Why an action is greyed out now, or "" when it can be used."""
        waits = ("open", "open_link", "report", "save", "copy", "retoggle")
        if self.diagnosis is None and action in waits:
            return NOT_YET
        if action == "open" and not self.query_one("#checks", DataTable).row_count:
            return "no check is shown (the filter or f hides them all)"
        if action == "retoggle" and self.learner() is None:
            return RETOGGLE_NO_LEARNER
        if action == "open_link":
            finding = self.finding_at_cursor()
            if finding is None or not finding.links:
                return "the selected check links to no Xero record"
        return ""

    def action_open_link(self) -> None:
        finding = self.finding_at_cursor()
        if finding is not None:
            open_links(self, finding.links)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "fix_code":  # shown only where a check found a lost Contact Code
            return self.lost_code()
        return None if self.why_not(action) else True

    def on_key(self, event: events.Key) -> None:
        """A key of a greyed-out action says why it cannot be used now, instead of nothing."""
        if isinstance(self.focused, Input):
            return
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and event.key in binding.key.split(","):
                reason = self.why_not(binding.action)
                if reason:
                    event.stop()
                    self.notify(f"{binding.description}: not now, {reason}", severity="warning")
                return

    def lost_code(self) -> bool:
        """The learner's contact.found failed: a Contact Code may be restorable."""
        if self.diagnosis is None or self.learner() is None:
            return False
        return any(
            f.check_id == "contact.found" and f.status is Status.FAIL
            for f in self.diagnosis.findings
        )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        finding = self.finding_at_cursor()
        if finding is not None:
            trail = self.trail(finding.check_id)
            self.app.push_screen(DetailScreen(finding, self.report(), trail=trail))

    def action_rerun(self) -> None:
        """Ask again; the cursor comes back to the check it was on."""
        finding = self.finding_at_cursor()
        self.kept_row = f"{finding.check_id}|{finding.target.key}" if finding else ""
        self.diagnosis = None
        self.refresh_bindings()
        self.load()

    def action_retoggle(self) -> None:
        learner = self.learner()
        if learner is None:
            self.notify(RETOGGLE_NO_LEARNER, severity="warning")
            return
        self.plan_retoggle(learner)

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
        outcome = (await self.core.resync(plan))[0]
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
            message = await self.core.apply_code_fix(plan)
        except DiagnoseError as exc:
            self.notify(str(exc), title="Contact Code not set", severity="error", timeout=20)
            return
        self.notify(message, title="Contact Code restored")
        self.action_rerun()

    async def action_back(self) -> None:
        """Escape clears a filter first; then it goes back to the start screen."""
        box = self.query_one("#filter", Input)
        if self.filter_text or box.has_class("shown"):
            box.value = ""  # the change refills the table
            box.remove_class("shown")
            self.query_one("#checks", DataTable).focus()
            if self.filter_text:
                self.filter_text = ""
                await self.refill()
            return
        self.dismiss(None)

    def action_copy(self) -> None:
        if self.diagnosis is None:
            return
        text = strip_ansi(diagnosis_text(self.diagnosis))
        self.app.copy_to_clipboard(text)  # a terminal may ignore this: it cannot be checked
        kept = data_dir() / "copied-diagnosis.txt"
        try:
            write_atomically(kept, text)
        except OSError as exc:
            self.notify(
                f"Sent to the terminal's clipboard, if it allows it; not kept in {kept}: {exc}",
                title="Copy",
                severity="warning",
            )
            return
        self.notify(
            f"Sent to the terminal's clipboard, if it allows it, and kept in {kept}",
            title="Copy",
            timeout=10,
        )

    def action_report(self) -> None:
        if self.diagnosis is None:
            return
        default = f"{self.report().file_stem}.docx"
        self.app.push_screen(
            FileNameScreen("Save the Word support request as:", default), self.write_report
        )

    def write_report(self, name: str | None) -> None:
        if not name:
            return
        path = Path(name).expanduser()
        if not path.exists():
            self.write_report_file(path)
            return

        def replace(yes: bool | None) -> None:
            if yes:
                self.write_report_file(path)

        self.app.push_screen(
            ConfirmScreen(f"Replace {path}?", [f"{path} exists; it will be replaced"]), replace
        )

    @work(thread=True, exit_on_error=False)
    def write_report_file(self, path: Path) -> None:
        from diagnose.render.word import write_report

        try:
            written = write_report(self.report(), path)
        except DiagnoseError as exc:
            self.app.call_from_thread(self.notify, str(exc), title="Not saved", severity="error")
            return
        self.app.call_from_thread(
            self.notify, f"Saved to {written.resolve()}", title="Support request written"
        )

    def action_save(self) -> None:
        if self.raw is None:
            return
        default = self.report().file_stem.replace("support-request", "evidence", 1) + ".json"
        self.app.push_screen(FileNameScreen("Save the evidence snapshot as:", default), self.save)

    def save(self, name: str | None) -> None:
        if not name or self.raw is None:
            return
        path = Path(name).expanduser()
        try:
            self.raw.save(path)
        except DiagnoseError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        self.notify(f"Saved to {path.resolve()}", title="Snapshot saved")
