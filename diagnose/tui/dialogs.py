"""Small modal screens: the key help, a file-name prompt, and the confirmations of a write."""

from __future__ import annotations

import os
import re
import sys
import time
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Markdown, OptionList, Static


def _dialog_css(name: str) -> str:
    return f"""
    {name} {{ align: center middle; }}
    {name} #dialog {{ width: 76; max-height: 22; height: auto; border: thick $accent;
                      padding: 0 1; background: $surface; }}
    {name} .hint {{ color: $text-muted; }}
    {name} .title {{ text-style: bold; margin-bottom: 1; }}
    {name} #plan {{ height: auto; max-height: 12; margin-bottom: 1; }}
    """


class HelpScreen(ModalScreen[None]):
    """Every key of the screen underneath, with what it does."""

    DEFAULT_CSS = _dialog_css("HelpScreen")
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def __init__(self, under: Screen[Any]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        lines = ["# Keys", "", "| key | what it does |", "| --- | --- |"]
        seen: set[str] = set()
        lines.append("| ↑ ↓ PgUp PgDn | Move between the checks |")
        for binding in [*self.under.BINDINGS, *self.app.BINDINGS]:
            action = binding.action.removeprefix("app.") if isinstance(binding, Binding) else ""
            if not isinstance(binding, Binding) or action in seen:
                continue
            seen.add(action)
            keys = ", ".join(k.replace("question_mark", "?") for k in binding.key.split(","))
            why_not = getattr(self.under, "why_not", None)
            reason = why_not(binding.action) if why_not else ""
            what = (binding.tooltip or binding.description) + (
                f" — not now: {reason}" if reason else ""
            )
            lines.append(f"| {keys} | {what} |")
        lines += [
            "| ctrl+p | Command palette: every action by name |",
            "",
            "## What the marks mean",
            "",
            "✓ passed · ! a warning: nothing blocked, worth a look · ✗ failed: this blocks the "
            "sync · – did not apply, or skipped because an earlier check failed · ☠ could not "
            "be decided: Wisenet or Xero did not answer",
            "",
            "Escape closes this.",
        ]
        with VerticalScroll(id="dialog"):
            yield Markdown("\n".join(lines))


class FileNameScreen(ModalScreen[str | None]):
    """Ask for a file name; Enter accepts, Escape cancels."""

    DEFAULT_CSS = _dialog_css("FileNameScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, default: str) -> None:
        super().__init__()
        self.prompt = prompt
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.prompt)
            yield Input(value=self.default, id="filename")
            yield Label("Enter to save · Escape to cancel", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Show exactly what will be written, and where; only `y` writes. Enter, n and Escape
    cancel, and a key that was typed before the dialog was on screen (a burst such as
    "Enter t y") is ignored."""

    DEFAULT_CSS = _dialog_css("ConfirmScreen")
    BINDINGS = [
        Binding("y", "nothing", "Write"),  # shown in the footer; `on_key` decides
        Binding("n,escape,enter", "answer(False)", "Cancel"),
    ]
    SETTLE = 0.05  # a key made less than this after the dialog showed was typed before it

    def __init__(self, title: str, writes: list[str], where: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.writes = writes
        self.where = where
        self.shown_at = float("inf")

    def compose(self) -> ComposeResult:
        lines = [f"**{self.title_text}**", ""]
        lines += [f"In: {self.where}", ""] if self.where else []
        lines += ["This will be done, in this order:", ""]
        lines += [f"{i}. `{w}`" for i, w in enumerate(self.writes, 1)]
        lines += ["", "**y**: make them · n, Enter or Escape: cancel (nothing is written)"]
        with VerticalScroll(id="dialog"):
            yield Markdown("\n".join(lines))

    def on_screen_resume(self) -> None:  # shown, or shown again when a screen above it closed
        self.shown_at = time.monotonic()

    def on_key(self, event: events.Key) -> None:
        """`y` writes, unless the key was typed before the dialog was on screen (a burst such
        as "t y" read in one go): such a key is ignored, and the dialog says so."""
        if event.key != "y":
            return
        event.stop()
        event.prevent_default()
        if event.time < self.shown_at + self.SETTLE:
            self.notify("Press y again to make the writes.", title="Not written yet")
            return
        self.dismiss(True)

    def action_nothing(self) -> None:
        """The footer's `y`: the key itself is handled by `on_key`."""

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class TypedConfirmScreen(ModalScreen[str | None]):
    """A write to a live organisation: the plan, then the organisation's name typed in full.
    Enter hands back what was typed (the caller compares it); Escape cancels."""

    DEFAULT_CSS = _dialog_css("TypedConfirmScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, writes: list[str], phrase: str) -> None:
        super().__init__()
        self.title_text = title
        self.writes = writes
        self.phrase = phrase

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, classes="title", markup=False)
            with VerticalScroll(id="plan"):
                yield Static("\n".join(self.writes), markup=False)
            yield Label(f"This changes real data. Type {self.phrase} to make these writes:")
            yield Input(id="phrase")
            yield Label("Enter to confirm · Escape to cancel", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#phrase", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class LinkScreen(ModalScreen[str | None]):
    """Which of a check's links to open: Enter opens the highlighted one, Escape cancels."""

    DEFAULT_CSS = _dialog_css("LinkScreen")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, links: tuple[str, ...]) -> None:
        super().__init__()
        self.links = links

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Open which link?", classes="title")
            yield OptionList(*(link_label(link) for link in self.links), id="links")
            yield Label("Enter to open · Escape to cancel", classes="hint")

    def on_mount(self) -> None:
        choices = self.query_one("#links", OptionList)
        choices.highlighted = 0
        choices.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.links[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


def link_label(link: str) -> str:
    """A link as a short line that says what it opens: the record and its id (a whole address
    wraps mid-id in an 80-column dialog)."""
    record = next(
        (
            name
            for part, name in (
                ("/Contacts/", "Xero contact"),
                ("ViewCreditNote", "Xero credit note"),
                ("AccountsReceivable", "Xero sales invoice"),
                ("AccountsPayable", "Xero bill"),
            )
            if part in link
        ),
        "",
    )
    ident = re.split(r"[/=]", link)[-1]
    return f"{record} {ident}" if record and ident else link


def no_browser() -> str:
    """Why no web browser can be opened from this terminal, or "" when one can."""
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        return "this is an SSH session"
    desktop = ("DISPLAY", "WAYLAND_DISPLAY")
    if sys.platform.startswith("linux") and not any(os.environ.get(name) for name in desktop):
        return "there is no desktop here"
    return ""


def open_links(screen: Screen[Any], links: tuple[str, ...]) -> None:
    """Open a link in the browser (choosing first when there are several); where no browser
    can open, say so, and hand the link to the terminal's clipboard instead."""
    if len(links) > 1:
        screen.app.push_screen(
            LinkScreen(links), lambda link: open_links(screen, (link,)) if link else None
        )
        return
    if not links:
        screen.notify("This check has no link to open.", severity="warning")
        return
    link = links[0]
    screen.app.copy_to_clipboard(link)
    why = no_browser()
    if why:
        screen.notify(
            f"No browser opens from here ({why}). The link went to the terminal's clipboard, "
            f"if it allows it: {link}",
            title="Link",
            timeout=20,
        )
        return
    screen.app.open_url(link)
    screen.notify(f"Opening {link} in the browser (and on the clipboard)", title="Link")
