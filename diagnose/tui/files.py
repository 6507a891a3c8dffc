"""What the walkthrough writes to files: the Word support request (`w`), the evidence snapshot
(`s`) and the copied diagnosis (`c`), each asking before it replaces a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import work
from textual.screen import Screen

from diagnose.errors import DiagnoseError
from diagnose.evidence import RawEvidence
from diagnose.model import Diagnosis
from diagnose.paths import data_dir, write_atomically
from diagnose.render.text import diagnosis_text
from diagnose.report import Report
from diagnose.textsafe import strip_ansi
from diagnose.tui.dialogs import ConfirmScreen, FileNameScreen


class FileActions(Screen[tuple[str, Any] | None]):
    """`c`, `w` and `s` of the walkthrough; the screen provides the diagnosis and its report."""

    diagnosis: Diagnosis | None
    raw: RawEvidence | None

    def report(self) -> Report:
        raise NotImplementedError

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
