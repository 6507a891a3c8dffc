"""Small modal screens: the key help, a file-name prompt, and the confirmations of a write."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, Markdown, Static


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
        for binding in [*self.under.BINDINGS, *self.app.BINDINGS]:
            if not isinstance(binding, Binding) or binding.action in seen:
                continue
            seen.add(binding.action)
            keys = ", ".join(k.replace("question_mark", "?") for k in binding.key.split(","))
            reason = getattr(self.under, "unavailable", {}).get(binding.action, "")
            what = (binding.tooltip or binding.description) + (
                f" — not available yet: {reason}" if reason else ""
            )
            lines.append(f"| {keys} | {what} |")
        lines += ["| ctrl+p | Command palette: every action by name |", "", "Escape closes this."]
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
    """Show exactly what will be written; y (or Enter) writes, n (or Escape) does not."""

    DEFAULT_CSS = _dialog_css("ConfirmScreen")
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Write"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, title: str, writes: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.writes = writes

    def compose(self) -> ComposeResult:
        lines = [f"**{self.title_text}**", "", "These requests will be made, in this order:", ""]
        lines += [f"{i}. `{w}`" for i, w in enumerate(self.writes, 1)]
        lines += ["", "y or Enter: make them · n or Escape: cancel"]
        with VerticalScroll(id="dialog"):
            yield Markdown("\n".join(lines))

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
