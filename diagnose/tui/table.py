"""The walkthrough's table of checks: moving between its problems, and the selected check shown
in full beside or under it when the screen has room."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import DataTable, Markdown

from diagnose.model import Diagnosis, Finding
from diagnose.tui.detail import pane_markdown

RESULT_MIN = 24
FIXED_COLUMNS = 1 + 23 + 9 + 4 * 2 + 2  # the other columns, their padding and the scrollbar
# The selected check in full: beside the table on a wide screen, under it on a tall one of 120
# columns (where the Result column keeps its width), not at all on a small one.
BESIDE_FROM = 160
BELOW_FROM = (120, 36)


class ChecksTable(Screen[tuple[str, Any] | None]):
    """The table's cursor, its problems and the pane; the screen fills the table."""

    diagnosis: Diagnosis | None
    _pane_shown: str = ""

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

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.show_pane()

    def show_pane(self) -> None:
        """The selected check in full beside or under the table, when the screen has room."""
        if not self.pane_place():
            return
        finding = self.finding_at_cursor()
        text = pane_markdown(finding) if finding else ""
        if text != self._pane_shown:
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
