"""The walkthrough driven with the keyboard, as a support person would."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from docx import Document
from textual import events
from textual.widgets import DataTable, Input, Markdown, OptionList, Static

from diagnose.model import Status, SubjectKind
from diagnose.paths import data_dir
from diagnose.sandbox import demo_tenant_path
from diagnose.sandbox.app import create_app
from diagnose.sandbox.tenant import load_tenant
from diagnose.tui.app import DiagnoseApp
from diagnose.tui.detail import DetailScreen
from diagnose.tui.dialogs import ConfirmScreen, FileNameScreen, HelpScreen
from diagnose.tui.start import StartScreen
from diagnose.tui.walkthrough import WalkthroughScreen

SIZE = (80, 24)


def rows(app: DiagnoseApp) -> dict[str, str]:
    table = app.screen.query_one("#checks", DataTable)
    found = {}
    for row_key in table.rows:
        glyph, check_id, target, _ = table.get_row(row_key)
        found[f"{check_id}@{target}"] = str(glyph)
    return found


async def settle(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_learner(pilot: Any, ref: str = "123") -> None:
    await pilot.press(*ref, "enter")
    await settle(pilot)


async def test_learner_123_shows_its_failures() -> None:
    app = DiagnoseApp()
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, StartScreen)
        await open_learner(pilot)
        assert isinstance(app.screen, WalkthroughScreen)
        found = rows(app)
        assert found["learner.sync-enabled@learner"] == "✗"
        assert found["contact.active@learner"] == "✗"
        assert found["invoice.in-wisenet@INV-0042"] == "✗"
        assert found["learner.email@learner"] == "✓"
        verdict = str(app.screen.query_one("#verdict", Static).render())
        assert "The sync is blocked" in verdict
        assert "4 failed" in verdict


async def test_a_failure_opens_its_detail_with_fix_steps_and_evidence() -> None:
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#checks", DataTable)
        target = next(
            i for i, key in enumerate(table.rows) if key.value.startswith("contact.active|")
        )
        await pilot.press("home", *["down"] * target, "enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        text = app.screen.query_one(Markdown).source
        assert "## Why it matters" in text
        assert "1. In Xero open Contacts › All contacts › Archived" in text
        assert "https://go.xero.com/Contacts/View/" in text
        assert "| Contact Code | STD0000123 |" in text  # the finding's evidence, labelled
        assert "## Xero contact search" in text
        await pilot.press("escape")
        assert isinstance(app.screen, WalkthroughScreen)


async def test_the_word_report_is_written_where_asked(tmp_path: Path) -> None:
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, FileNameScreen)
        field = app.screen.query_one("#filename", Input)
        assert field.value.startswith("support-request-learner-123-")
        field.value = str(tmp_path / "ticket.docx")
        await pilot.press("enter")
        await settle(pilot)
        written = tmp_path / "ticket.docx"
        assert written.exists()
        assert "learner.sync-enabled" in "\n".join(
            p.text for p in Document(str(written)).paragraphs
        )
        assert any(f"Saved to {written}" in n.message for n in app._notifications)
        written.write_text("mine")  # it exists now: `w` asks before replacing it
        await pilot.press("w")
        await pilot.pause()
        app.screen.query_one("#filename", Input).value = str(written)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert written.read_text() == "mine"  # not replaced


async def test_save_snapshot_copy_and_help(tmp_path: Path) -> None:
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, FileNameScreen)
        app.screen.query_one("#filename", Input).value = str(tmp_path / "snap.json")
        await pilot.press("enter")
        await pilot.pause()
        assert json.loads((tmp_path / "snap.json").read_text())["format"] == "diagnose-snapshot/1"
        await pilot.press("c")
        assert "✗ learner.sync-enabled" in app.clipboard
        assert "\x1b" not in app.clipboard
        kept = data_dir() / "copied-diagnosis.txt"  # a terminal may ignore the clipboard
        assert kept.read_text() == app.clipboard
        assert any(str(kept) in n.message for n in app._notifications)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_text = app.screen.query_one(Markdown).source
        assert "Write the Word support request" in help_text
        assert 'Untick and re-tick "Sync to Xero"' in help_text
        await pilot.press("escape")
        assert isinstance(app.screen, WalkthroughScreen)


async def test_retoggle_confirms_the_exact_writes_then_fixes_the_learner(data_dir: Path) -> None:
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="103")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert rows(app)["learner.sync-enabled@learner"] == "✗"
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        text = app.screen.query_one(Markdown).source
        assert '"path": "Personal/SyncToXero", "value": true' in text
        await pilot.press("n")  # cancelled: nothing written
        await pilot.pause()
        assert not (data_dir / "sandbox").exists()
        await pilot.press("t")
        await pilot.pause(ConfirmScreen.SETTLE + 0.1)  # a y typed before it showed is ignored
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        assert rows(app)["learner.sync-enabled@learner"] == "✓"
        assert (data_dir / "sandbox" / "demo.json").exists()
        assert any("it is ticked now" in n.message for n in app._notifications)


async def test_k_gives_the_look_alike_contact_back_its_lost_contact_code(data_dir: Path) -> None:
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="108")  # merged: its Contact Code lost
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert rows(app)["contact.found@learner"] == "✗"
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Fix the Contact Code" in titles
        await pilot.press("k")
        await pilot.pause(ConfirmScreen.SETTLE + 0.1)
        assert isinstance(app.screen, ConfirmScreen)
        text = app.screen.query_one(Markdown).source
        assert '"ContactNumber": "STD0000108"' in text
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        assert rows(app)["contact.found@learner"] == "✓"
        assert any("now has Contact Code STD0000108" in n.message for n in app._notifications)


async def test_retoggle_is_greyed_out_without_a_learner() -> None:
    app = DiagnoseApp(kind=SubjectKind.INVOICE, ref="INV-0050")  # no Contact Code: no learner
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, WalkthroughScreen)
        assert screen.check_action("retoggle", ()) is None
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Re-toggle Sync to Xero" in titles


async def test_a_name_matching_several_learners_offers_a_pick_list(
    demo_tenant: dict[str, Any], write_tenant: Any
) -> None:
    twin = json.loads(json.dumps(demo_tenant["wisenet"]["learners"][0]))
    twin["LearnerId"] = 201
    twin["Personal"]["LearnerNumber"] = "STD0000201"
    demo_tenant["wisenet"]["learners"].append(twin)
    app = DiagnoseApp(sandbox=write_tenant(demo_tenant))
    async with app.run_test(size=SIZE) as pilot:
        await open_learner(pilot, "Olivia Nguyen")
        assert isinstance(app.screen, StartScreen)
        choices = app.screen.query_one("#choices", OptionList)
        assert choices.option_count == 2
        assert choices.highlighted == 0  # the first is highlighted at once
        await pilot.press("escape", "x")  # Escape: back to the box, and typing goes there
        assert app.screen.query_one("#ref", Input).value == "Olivia Nguyenx"
        await pilot.press("backspace", "enter")
        await settle(pilot)
        await pilot.press("down", "enter")  # the second one
        await settle(pilot)
        assert isinstance(app.screen, WalkthroughScreen)
        assert "learner 201" in str(app.screen.query_one("#headline", Static).render())


async def test_bad_input_stays_on_the_start_screen_with_the_reason() -> None:
    app = DiagnoseApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_learner(pilot, "abc")
        assert isinstance(app.screen, StartScreen)
        assert "no Wisenet learner has name 'abc'" in str(
            app.screen.query_one("#error", Static).render()
        )
        await pilot.press("shift+tab", "down", "enter")  # switch to invoices with the keyboard
        await pilot.pause()
        assert app.screen.kind is SubjectKind.INVOICE
        assert str(app.screen.query_one("#error", Static).render()) == ""  # that was learners
        field = app.screen.query_one("#ref", Input)
        field.value = ""
        field.focus()
        await pilot.press("enter")
        assert "empty" in str(app.screen.query_one("#error", Static).render())


async def test_a_source_error_shows_error_rows_and_retry_recovers() -> None:
    tenant = load_tenant(demo_tenant_path())
    sandbox = create_app(tenant)
    broken = {"xero": True}

    async def flaky(scope: Any, receive: Any, send: Any) -> None:
        if broken["xero"] and scope["type"] == "http" and scope["path"].startswith("/api.xro"):
            raise httpx.ConnectError("connection refused")
        await sandbox(scope, receive, send)

    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123", sandbox_app=flaky)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        found = rows(app)
        assert found["contact.active@learner"] == "☠"
        assert found["learner.sync-enabled@learner"] == "✗"
        verdict = str(app.screen.query_one("#verdict", Static).render())
        assert "Press r to retry" in verdict
        assert "Wisenet or Xero could not be reached" in verdict  # in words, not a code
        broken["xero"] = False
        await pilot.press("r")
        await settle(pilot)
        assert rows(app)["contact.active@learner"] == "✗"


async def test_keys_typed_in_a_burst_never_confirm_a_write(data_dir: Path) -> None:
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="103")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter", "t")  # the detail opens, and a re-toggle may be asked for
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("enter")  # Enter is never "yes"
        await settle(pilot)
        while not isinstance(app.screen, WalkthroughScreen):
            await pilot.press("escape")
            await settle(pilot)
        typed_before = events.Key("y", "y")  # typed with the t, before the dialog existed
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        app.screen.post_message(typed_before)  # reaches the dialog only now: it is ignored
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")  # the dialog in view: Enter cancels
        await settle(pilot)
        assert isinstance(app.screen, WalkthroughScreen)
        assert not (data_dir / "sandbox").exists()  # nothing written
        assert not (data_dir / "audit.jsonl").exists()


def cursor_key(app: DiagnoseApp) -> str:
    table = app.screen.query_one("#checks", DataTable)
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


async def test_the_cursor_starts_on_the_first_failure_in_view_and_n_moves_between_them() -> None:
    app = DiagnoseApp(kind=SubjectKind.INVOICE, ref="INV-0113")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#checks", DataTable)
        assert cursor_key(app).startswith("invoice.in-wisenet|")
        region = table.scrollable_content_region
        assert table.scroll_y <= table.cursor_row < table.scroll_y + region.height
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        seen = [cursor_key(app).split("|")[0]]
        for _ in range(4):
            await pilot.press("n")
            seen.append(cursor_key(app).split("|")[0])
        assert seen == [
            "learner.sync-enabled",
            "contact.active",
            "invoice.contact-merged",
            "invoice.in-wisenet",
            "learner.sync-enabled",  # round again
        ]
        await pilot.press("N")
        assert cursor_key(app).startswith("invoice.in-wisenet|")
        await pilot.press("home")
        assert table_row(app) == 0
        await pilot.press("end")
        assert table_row(app) == app.screen.query_one("#checks", DataTable).row_count - 1


def table_row(app: DiagnoseApp) -> int:
    return app.screen.query_one("#checks", DataTable).cursor_row


async def test_the_result_column_takes_the_free_width_and_says_when_it_is_cut() -> None:
    archived = "Jane Citizen is archived, so Xero refuses Wisenet's updates"
    for size, whole in (((120, 40), True), ((80, 24), False)):
        app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            table = app.screen.query_one("#checks", DataTable)
            key = next(k for k in table.rows if str(k.value).startswith("contact.active|"))
            shown = str(table.get_row(key)[3])
            assert (shown == archived) is whole, shown
            if not whole:
                assert shown.endswith("…")
                assert archived.startswith(shown[:-1])
            await pilot.resize_terminal(200, 50)  # wider: the whole of it again
            await pilot.pause()
            assert str(table.get_row(key)[3]) == archived


def test_status_colours_are_readable_on_dark_and_light_and_plain_without_colour(
    monkeypatch: Any,
) -> None:
    from rich.color import Color
    from textual.theme import BUILTIN_THEMES

    from diagnose.tui.look import status_style

    def luminance(colour: str) -> float:
        red, green, blue = (
            c / 255 if c / 255 > 0.03928 else c / 255 / 12.92
            for c in Color.parse(colour).get_truecolor()
        )
        red, green, blue = (
            ((c + 0.055) / 1.055) ** 2.4 if c > 0.03928 / 12.92 else c for c in (red, green, blue)
        )
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    def contrast(a: str, b: str) -> float:
        high, low = sorted((luminance(a), luminance(b)), reverse=True)
        return (high + 0.05) / (low + 0.05)

    monkeypatch.delenv("NO_COLOR", raising=False)
    for name, dark in (("textual-dark", True), ("textual-light", False)):
        background = BUILTIN_THEMES[name].background or ("#000000" if dark else "#ffffff")
        for status in (Status.PASS, Status.WARN, Status.FAIL, Status.ERROR, Status.SKIP):
            colour = status_style(status, dark).split()[-1]
            assert contrast(colour, background) >= 4.5, (name, status, colour)
    monkeypatch.setenv("NO_COLOR", "1")
    assert status_style(Status.FAIL, True) == "bold reverse"
    assert "#" not in status_style(Status.WARN, False)


async def test_the_chosen_theme_is_kept(data_dir: Path) -> None:
    app = DiagnoseApp()
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "textual-light"
        await pilot.pause()
    app = DiagnoseApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == "textual-light"


async def test_start_screen_advice_is_for_the_screen_not_a_command_line() -> None:
    app = DiagnoseApp()
    async with app.run_test(size=SIZE) as pilot:
        await open_learner(pilot, "%%%")
        said = str(app.screen.query_one("#error", Static).render())
        assert "is not a LearnerId, a RefInternal or a name" in said
        assert "diagnose learner" not in said


async def test_p_shows_only_the_problems_and_the_trail_says_where_you_are() -> None:
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert len(rows(app)) == 21
        await pilot.press("p")
        await settle(pilot)
        assert set(rows(app).values()) == {"✗"}
        assert len(rows(app)) == 4
        verdict = str(app.screen.query_one("#verdict", Static).render())
        assert "showing problems only" in verdict
        assert "checked " in verdict
        trail = str(app.screen.query_one("#headline", Static).render())
        assert trail == "Start › learner 123 · Jane Citizen · STD0000123"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert str(app.screen.query_one("#trail", Static).render()).endswith(
            "› learner.sync-enabled"
        )
        await pilot.press("escape", "f")  # f and p both
        await settle(pilot)
        assert len(rows(app)) == 21


async def test_the_wait_shows_each_service_and_the_time_waited() -> None:
    import asyncio

    sandbox = create_app(load_tenant(demo_tenant_path()))
    xero_may_answer = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and "/api.xro/" in scope["path"]:
            await xero_may_answer.wait()  # Xero takes its time: until the test has looked
        await sandbox(scope, receive, send)

    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123", sandbox_app=slow)
    async with app.run_test(size=SIZE) as pilot:
        waiting = ""
        for _ in range(100):  # until Wisenet has answered (the line is redrawn twice a second)
            await pilot.pause(0.1)
            waiting = str(app.screen.query_one("#verdict", Static).render())
            if re.search(r"Wisenet: \d+ answered", waiting):
                break
        assert waiting.startswith("Asking Wisenet and Xero… Wisenet: "), waiting
        assert re.search(r"Wisenet: \d+ answered · Xero: (asking|\d+ answered) · \d+ s$", waiting)
        coming = rows(app)  # the checks that will run, each waiting for its answers
        assert coming["connection.xero@"] == "·"
        assert coming["contact.active@learner"] == "·"
        table = app.screen.query_one("#checks", DataTable)
        assert {str(table.get_row(k)[3]) for k in table.rows} == {"waiting for the answers…"}
        xero_may_answer.set()
        await settle(pilot)
        assert "The sync is blocked" in str(app.screen.query_one("#verdict", Static).render())
        assert rows(app)["contact.active@learner"] == "✗"


def pane_text(app: DiagnoseApp) -> str:
    return app.screen.query_one("#pane-text", Markdown).source


async def test_the_selected_check_is_shown_whole_beside_or_under_the_table() -> None:
    archived = "Jane Citizen is archived, so Xero refuses Wisenet's updates"
    for size, place in (((200, 50), "beside"), ((120, 40), "below"), ((80, 24), "")):
        app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, WalkthroughScreen)
            pane = screen.query_one("#pane")
            assert pane.display is bool(place), size
            if not place:
                continue
            assert screen.query_one("#body").has_class(place)
            assert "learner.sync-enabled" in pane_text(app)  # the first failure, selected
            await pilot.press("n")
            await pilot.pause()
            assert archived in pane_text(app)
            assert "1. In Xero open Contacts › All contacts › Archived" in pane_text(app)
            assert pane.region.width > 40 if place == "beside" else pane.region.height >= 10


async def test_slash_filters_the_checks_and_escape_clears_it_before_going_back() -> None:
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"ARCHIVED")
        await settle(pilot)
        shown = rows(app)
        assert set(shown) == {"contact.active@learner", "invoice.contact-merged@INV-0042"}
        verdict = str(app.screen.query_one("#verdict", Static).render())
        assert "filter “ARCHIVED”: 2 shown (Esc clears)" in verdict
        await pilot.press("enter")  # the table takes the keys again; the filter stays
        await pilot.pause()
        assert isinstance(app.focused, DataTable)
        assert len(rows(app)) == 2
        await pilot.press("escape")  # the filter goes, the walkthrough stays
        await settle(pilot)
        assert isinstance(app.screen, WalkthroughScreen)
        assert len(rows(app)) == 21
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)


async def test_a_greyed_out_key_says_why_when_pressed() -> None:
    app = DiagnoseApp(kind=SubjectKind.INVOICE, ref="INV-0050")  # no Contact Code: no learner
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await pilot.pause()
        said = [n.message for n in app._notifications]
        assert "Re-toggle: not now, there is no Wisenet learner in this diagnosis" in said[-1]
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        help_text = app.screen.query_one(Markdown).source
        assert "not now: there is no Wisenet learner" in help_text


async def test_recent_lookups_are_offered_on_the_start_screen(data_dir: Path) -> None:
    for kind, ref in ((SubjectKind.LEARNER, "123"), (SubjectKind.INVOICE, "inv-0042")):
        app = DiagnoseApp(kind=kind, ref=ref)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
    app = DiagnoseApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        recent = app.screen.query_one("#recent", OptionList)
        labels = [str(recent.get_option_at_index(i).prompt) for i in range(recent.option_count)]
        assert labels[0].startswith("invoice INV-0042")  # the newest first
        assert labels[1] == "learner 123 · Jane Citizen · STD0000123"
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, WalkthroughScreen)
        assert app.screen.trail() == "Start › learner 123 · Jane Citizen · STD0000123"
    prefs = json.loads((data_dir / "tui.json").read_text(encoding="utf-8"))
    assert [r["ref"] for r in prefs["recent"]] == ["123", "inv-0042"]  # the same lookup once


async def test_o_without_a_browser_says_so_and_hands_over_the_link(monkeypatch: Any) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 50000 10.0.0.1 22")
    opened: list[str] = []
    monkeypatch.setattr(DiagnoseApp, "open_url", lambda self, url, **_: opened.append(url))
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n", "o")  # contact.active links to the archived contact
        await pilot.pause()
        said = app._notifications
        last = list(said)[-1].message
        assert "No browser opens from here (this is an SSH session)" in last
        assert "https://go.xero.com/Contacts/View/" in last
        assert app.clipboard in last
        assert opened == []
        monkeypatch.delenv("SSH_CONNECTION")
        monkeypatch.setenv("DISPLAY", ":0")
        from diagnose.tui.dialogs import LinkScreen, open_links

        open_links(app.screen, ("https://go.xero.com/a", "https://go.xero.com/b"))
        await pilot.pause()
        assert isinstance(app.screen, LinkScreen)  # several links: which one
        choices = app.screen.query_one(OptionList)
        assert str(choices.get_option_at_index(0).prompt) == "https://go.xero.com/a"
        await pilot.press("down", "enter")
        await pilot.pause()
        assert opened == ["https://go.xero.com/b"]


async def test_r_asks_again_keeps_the_cursor_and_says_so() -> None:
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")  # contact.active
        await pilot.pause()
        before = app.screen.finding_at_cursor()
        assert before is not None
        assert before.check_id == "contact.active"
        await pilot.press("r")
        await settle(pilot)
        after = app.screen.finding_at_cursor()
        assert after is not None
        assert after.check_id == "contact.active"
        assert "Asked again: ✗ The sync is blocked" in list(app._notifications)[-1].message


def test_a_link_is_offered_by_what_it_opens() -> None:
    from diagnose.tui.dialogs import link_label

    contact = "https://go.xero.com/Contacts/View/cfb88112-88f1-551a-bb66-6bb0bbf019e6"
    invoice = "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=e99cf025-add6-599a"
    assert link_label(contact) == "Xero contact cfb88112-88f1-551a-bb66-6bb0bbf019e6"
    assert link_label(invoice) == "Xero sales invoice e99cf025-add6-599a"
    credit = "https://go.xero.com/AccountsReceivable/ViewCreditNote.aspx?creditNoteID=c1"
    assert link_label(credit) == "Xero credit note c1"
