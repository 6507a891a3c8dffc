"""The walkthrough: every check in the FAQ's order, filled in as the answers arrive, with the
actions one key away. Network work runs in workers; the screen never freezes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from diagnose import audit, remedy, runner
from diagnose.errors import AmbiguousError, DiagnoseError
from diagnose.evidence import Evidence, RawEvidence, Unavailable
from diagnose.model import Diagnosis, Finding, Learner, Status, SubjectKind, TargetKind
from diagnose.render.text import diagnosis_text
from diagnose.report import Report, build_report
from diagnose.sandbox.tenant import Tenant
from diagnose.sources.sandbox import sandbox_sources
from diagnose.textsafe import one_line, strip_ansi
from diagnose.tui.detail import DetailScreen
from diagnose.tui.dialogs import ConfirmScreen, FileNameScreen

RETOGGLE_NO_LEARNER = "there is no Wisenet learner in this diagnosis to re-toggle"
STYLES = {
    Status.PASS: "bold green",
    Status.WARN: "bold dark_orange",  # readable on light and dark themes
    Status.FAIL: "bold red",
    Status.SKIP: "dim",
    Status.ERROR: "bold magenta",
}


def _for(finding: Finding) -> str:
    kind = finding.target.kind
    if kind is TargetKind.INVOICE:
        return finding.target.label.removeprefix("invoice ")
    return "" if kind is TargetKind.TENANT else "learner"


class WalkthroughScreen(Screen[tuple[str, Any] | None]):
    DEFAULT_CSS = """
    WalkthroughScreen #where { color: $text-muted; padding: 0 1; }
    WalkthroughScreen #headline { text-style: bold; padding: 0 1; }
    WalkthroughScreen #checks { height: 1fr; }
    WalkthroughScreen #verdict { padding: 0 1; height: auto; max-height: 3; }
    """
    BINDINGS = [
        Binding(
            "enter", "open", "Details", tooltip="Open the selected check in full", id="details"
        ),
        Binding("r", "rerun", "Re-run", tooltip="Ask Wisenet and Xero again", id="rerun"),
        Binding(
            "t", "retoggle", "Re-toggle", tooltip='Untick and re-tick "Sync to Xero"', id="retoggle"
        ),
        Binding("w", "report", "Report", tooltip="Write the Word support request", id="report"),
        Binding("s", "save", "Save", tooltip="Save the evidence as a JSON snapshot", id="save"),
        Binding("c", "copy", "Copy", tooltip="Copy the diagnosis as text", id="copy"),
        Binding("escape", "back", "Back", tooltip="Back to the start screen", id="back"),
    ]

    def __init__(self, kind: SubjectKind, ref: str, tenant: Tenant) -> None:
        super().__init__()
        self.kind = kind
        self.ref = ref
        self.tenant = tenant
        self.raw: RawEvidence | None = None
        self.diagnosis: Diagnosis | None = None
        self.report_model: Report | None = None
        self.unavailable: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"SANDBOX · {one_line(self.tenant.organisation)} · sample data", id="where")
        yield Static(f"{self.kind.value} {one_line(self.ref)}", id="headline")
        table: DataTable[Any] = DataTable(id="checks", cursor_type="row", zebra_stripes=True)
        table.add_column("", key="glyph", width=1)
        table.add_column("Check", key="check", width=23)
        table.add_column("For", key="for", width=9)
        table.add_column("Result", key="result", width=35)
        yield table
        yield Static("", id="verdict")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    # -- running the diagnosis -----------------------------------------------------------------

    @work(exclusive=True, group="diagnosis", exit_on_error=False)
    async def load(self) -> None:
        table = self.query_one("#checks", DataTable)
        verdict = self.query_one("#verdict", Static)
        table.clear()
        table.loading = True
        verdict.update("Asking Wisenet and Xero…")
        try:
            raw = await runner.gather_async(
                self.kind, self.ref, self.tenant, app=getattr(self.app, "sandbox_app", None)
            )
        except AmbiguousError as exc:
            self.dismiss(("choose", exc.choices))
            return
        except DiagnoseError as exc:
            self.dismiss(("error", str(exc)))
            return
        except Exception as exc:  # a bug: say so on screen, keep the app alive
            table.loading = False
            verdict.update(
                Text(f"☠ Could not diagnose: {type(exc).__name__}: {exc}. Press r to retry.")
            )
            return
        diagnosis = runner.diagnose(raw)
        self.raw, self.diagnosis, self.report_model = raw, diagnosis, None
        self.query_one("#headline", Static).update(one_line(diagnosis.headline))
        table.loading = False
        for finding in diagnosis.findings:
            table.add_row(
                Text(finding.status.glyph, style=STYLES[finding.status]),
                finding.check_id,
                one_line(_for(finding)),
                one_line(finding.message),
                key=f"{finding.check_id}|{finding.target.key}",
            )
            await asyncio.sleep(0)  # each row shows as it is added
        verdict.update(self.verdict_text(diagnosis))
        self.refresh_bindings()
        table.focus()

    @staticmethod
    def verdict_text(d: Diagnosis) -> Text:
        counts = (
            f"{d.count(Status.FAIL)} failed · {d.count(Status.WARN)} warnings · "
            f"{d.count(Status.ERROR)} undecided · {d.count(Status.PASS)} passed"
        )
        if d.status is Status.ERROR:
            causes = sorted({f.cause.value for f in d.findings if f.cause})
            return Text(
                f"☠ Incomplete: a source did not answer ({', '.join(causes)}). "
                f"Press r to retry. {counts}",
                style=STYLES[Status.ERROR],
            )
        head = {
            Status.PASS: "✓ Nothing blocks the sync.",
            Status.WARN: "! Nothing blocks the sync; see the warnings.",
            Status.FAIL: "✗ The sync is blocked: Enter on a ✗ shows the fix.",
        }[d.status]
        return Text(f"{head} {counts}", style=STYLES[d.status])

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
                self.diagnosis, Evidence(self.raw), remedies=audit.entries()
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.unavailable:
            return None  # shown, greyed out; the help says why
        if action in ("open", "report", "save", "copy"):
            return self.diagnosis is not None
        if action == "retoggle":
            return True if self.learner() is not None else None
        return True

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        finding = self.finding_at_cursor()
        if finding is not None:
            self.app.push_screen(DetailScreen(finding, self.report()))

    def action_rerun(self) -> None:
        self.diagnosis = None
        self.refresh_bindings()
        self.load()

    def action_retoggle(self) -> None:
        learner = self.learner()
        if learner is None:
            self.notify(RETOGGLE_NO_LEARNER, severity="warning")
            return
        writes = remedy.resync_plan(learner, "/v1/learnersAU")
        title = f'Re-toggle "Sync to Xero" for {one_line(learner.label)}'

        def answered(yes: bool | None) -> None:
            if yes:
                self.retoggle(learner)

        self.app.push_screen(ConfirmScreen(title, writes), answered)

    @work(exclusive=True, group="remedy", exit_on_error=False)
    async def retoggle(self, learner: Learner) -> None:
        box = getattr(self.app, "sandbox", None)
        if box is None:
            return
        try:
            async with sandbox_sources(
                box.tenant, on_write=box.save, app=getattr(self.app, "sandbox_app", None)
            ) as sources:
                done = await remedy.resync(
                    sources.wisenet, learner, sandbox=box.label, tenant=box.tenant.organisation
                )
        except DiagnoseError as exc:
            self.notify(str(exc), title="Re-toggle did not finish", severity="error", timeout=15)
            return
        self.notify(done.message, title="Re-toggled")
        self.action_rerun()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        if self.diagnosis is None:
            return
        text = strip_ansi(diagnosis_text(self.diagnosis))
        self.app.copy_to_clipboard(text)
        self.notify("The diagnosis is on the clipboard as text.", title="Copied")

    def action_report(self) -> None:
        if self.diagnosis is None:
            return
        default = f"{self.report().file_stem}.docx"
        self.app.push_screen(
            FileNameScreen("Save the Word support request as:", default), self.write_report
        )

    def write_report(self, name: str | None) -> None:
        if name:
            self.write_report_file(Path(name).expanduser())

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
