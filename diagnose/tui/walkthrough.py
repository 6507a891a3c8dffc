"""The walkthrough: every check in the FAQ's order, filled in as the answers arrive, with the
actions one key away. Network work runs in workers; the screen never freezes."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.widgets import DataTable, Footer, Header, Input, Markdown, Static
from textual.widgets.data_table import ColumnKey

from diagnose import audit, engine
from diagnose.core import Core
from diagnose.errors import AmbiguousError, DiagnoseError
from diagnose.evidence import Evidence, RawEvidence, Unavailable
from diagnose.model import ApiCall, Diagnosis, Learner, Status, SubjectKind
from diagnose.report import Report, build_report
from diagnose.textsafe import one_line
from diagnose.tui import prefs
from diagnose.tui.detail import DetailScreen
from diagnose.tui.dialogs import open_links
from diagnose.tui.files import FileActions
from diagnose.tui.look import (
    checked_at,
    counts_text,
    cut,
    for_label,
    status_style,
    verdict_words,
    waiting_text,
)
from diagnose.tui.table import RESULT_MIN, ChecksTable
from diagnose.tui.writes import RETOGGLE_NO_LEARNER, WriteActions

NOT_YET = "the diagnosis has not finished yet"


class WalkthroughScreen(ChecksTable, WriteActions, FileActions):
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
            words = f"{finding.check_id} {for_label(finding)} {message} {finding.status.value}"
            if wanted and wanted not in words.casefold():
                continue
            self.messages[key] = message
            table.add_row(
                Text(finding.status.glyph, style=self.style_of(finding.status)),
                finding.check_id,
                one_line(for_label(finding)),
                cut(message, fits),
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
                table.update_cell(key, "result", cut(message, fits))
        table.refresh()

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
        shown = " · showing problems only (f: all)" if self.only_problems else ""
        if self.filter_text:
            rows = self.query_one("#checks", DataTable).row_count
            shown += f" · filter “{one_line(self.filter_text)}”: {rows} shown (Esc clears)"
        line = f"{verdict_words(d)} {counts_text(d)} · {self.checked(d)}{shown}"
        return Text(line, style=self.style_of(d.status))

    def checked(self, d: Diagnosis) -> str:
        return checked_at(d, self.core.profile.timezone)

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
