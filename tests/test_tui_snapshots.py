"""SVG snapshots of the screens at 80×24 (`pytest --snapshot-update` after a deliberate change)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, Input

from diagnose.model import SubjectKind
from diagnose.tui.app import DiagnoseApp

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The verdict line says when the checks ran: the same time in every snapshot."""
    from diagnose.tui.walkthrough import WalkthroughScreen

    monkeypatch.setattr(WalkthroughScreen, "checked", lambda self, d: "checked 09:15 AEDT")


async def _still(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def test_start_screen(snap_compare: Any) -> None:
    assert snap_compare(DiagnoseApp(), terminal_size=SIZE, run_before=_still)


@pytest.mark.parametrize("look", ["dark", "light", "no-color"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_walkthrough_of_learner_123(
    snap_compare: Any, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int], look: str
) -> None:
    if look == "no-color":
        monkeypatch.setenv("NO_COLOR", "1")
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
    if look == "light":
        app.theme = "textual-light"
    assert snap_compare(app, terminal_size=size, run_before=_still)


def test_detail_of_an_archived_contact(snap_compare: Any) -> None:
    async def open_detail(pilot: Any) -> None:
        await _still(pilot)
        table = pilot.app.screen.query_one("#checks", DataTable)
        row = next(i for i, k in enumerate(table.rows) if k.value.startswith("contact.active|"))
        await pilot.press("home", *["down"] * row, "enter")
        await pilot.pause()

    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
    assert snap_compare(app, terminal_size=SIZE, run_before=open_detail)
