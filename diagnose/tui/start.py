"""The start screen: which way the sync fails, and which learner or invoice."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from diagnose.core import Core
from diagnose.errors import UsageError
from diagnose.model import SubjectKind
from diagnose.refs import parse_invoice_ref, parse_learner_ref
from diagnose.textsafe import one_line
from diagnose.tui import prefs

PROMPTS = {
    SubjectKind.LEARNER: (
        "Learner: a LearnerId, RefInternal or name",
        "123, STD0000123 or Jane Citizen",
    ),
    SubjectKind.INVOICE: ("Invoice: a Xero invoice number or InvoiceID", "INV-0042"),
}


def _banner_class(core: Core) -> str:
    return "live" if core.live else "sandbox"


class StartScreen(Screen[None]):
    DEFAULT_CSS = """
    StartScreen #form { padding: 1 2; height: auto; }
    StartScreen RadioSet { width: 100%; margin-bottom: 1; }
    StartScreen #error { color: $error; height: auto; margin-top: 1; }
    StartScreen #choices { height: auto; max-height: 8; display: none; }
    StartScreen #choices.shown { display: block; }
    StartScreen #recent-label { color: $text-muted; margin-top: 1; }
    StartScreen #recent { height: auto; max-height: 8; }
    StartScreen #where { color: $text-muted; margin-top: 1; }
    StartScreen #where.live { color: $text; background: $error; text-style: bold; padding: 0 1; }
    StartScreen #keys { color: $text-muted; }
    """
    BINDINGS = [
        Binding("enter", "diagnose", "Diagnose", id="diagnose", show=True),
        Binding("f1", "app.help", "Help", tooltip="Every key, and what ✓ ! ✗ – ☠ mean"),
        Binding("escape", "to_box", "Back to typing", show=False),
        Binding("down", "to_recent", "Recent", tooltip="Pick a recent lookup", show=False),
    ]

    def __init__(self, core: Core, *, kind: SubjectKind | None, ref: str | None) -> None:
        super().__init__()
        self.core = core
        self.kind = kind or SubjectKind.LEARNER
        self.initial_ref = ref

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="form"):
            yield Static("What is not syncing?")
            with RadioSet(id="direction"):
                yield RadioButton(
                    "A learner is not reaching Xero", value=self.kind is SubjectKind.LEARNER
                )
                yield RadioButton(
                    "An invoice is not reaching Wisenet", value=self.kind is SubjectKind.INVOICE
                )
            yield Label(PROMPTS[self.kind][0], id="prompt")
            yield Input(placeholder=PROMPTS[self.kind][1], id="ref", select_on_focus=False)
            yield Static("Enter diagnoses · Tab switches field · f1 help · ctrl+q quits", id="keys")
            yield Static("", id="error")
            yield OptionList(id="choices")
            recent = prefs.recent(self.core.profile.name)
            if recent:
                yield Static("Recent lookups (↓ to pick, Enter to open):", id="recent-label")
                yield OptionList(
                    *(Option(one_line(label), id=f"{kind}:{ref}") for kind, ref, label in recent),
                    id="recent",
                )
            yield Static(one_line(self.core.banner()), id="where", classes=_banner_class(self.core))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#ref", Input).focus()
        if self.initial_ref is not None:
            self.query_one("#ref", Input).value = self.initial_ref
            self.action_diagnose()

    def action_to_box(self) -> None:
        """Escape from the match list: the list closes and typing goes on in the box."""
        self.query_one("#choices", OptionList).remove_class("shown")
        self.query_one("#ref", Input).focus()

    def action_to_recent(self) -> None:
        """↓ from the box: into the match list when it shows, else the recent lookups."""
        for name in ("#choices", "#recent"):
            found = self.query(name)
            if found and (name == "#recent" or found.first().has_class("shown")):
                choices = found.first(OptionList)
                if choices.highlighted is None:
                    choices.highlighted = 0
                choices.focus()
                return

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.kind = SubjectKind.LEARNER if event.index == 0 else SubjectKind.INVOICE
        label, placeholder = PROMPTS[self.kind]
        self.query_one("#prompt", Label).update(label)
        self.query_one("#ref", Input).placeholder = placeholder
        self.query_one("#choices", OptionList).remove_class("shown")
        self.query_one("#error", Static).update("")  # the old direction's error is gone

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_diagnose()

    def action_diagnose(self) -> None:
        ref = self.query_one("#ref", Input).value
        error = self.query_one("#error", Static)
        try:
            parse_learner_ref(ref) if self.kind is SubjectKind.LEARNER else parse_invoice_ref(ref)
        except UsageError as exc:  # said for this screen, not as a command line to type
            error.update(one_line(str(exc)).split("; try ")[0])
            return
        error.update("")
        self.open(self.kind, ref)

    def open(self, kind: SubjectKind, ref: str) -> None:
        from diagnose.tui.walkthrough import WalkthroughScreen  # the first lookup loads it

        self.app.push_screen(WalkthroughScreen(kind, ref, self.core), self.returned)

    def returned(self, outcome: Any) -> None:
        """A walkthrough that could not start comes back with why; typing goes on in the box."""
        if not outcome:
            self.query_one("#ref", Input).focus()
            return
        what, detail = outcome
        if what == "choose":
            choices = self.query_one("#choices", OptionList)
            choices.clear_options()
            choices.add_options(
                Option(one_line(f"{learner_id:>7}  {number:<12} {name}"), id=str(learner_id))
                for learner_id, number, name in detail
            )
            choices.add_class("shown")
            choices.highlighted = 0
            choices.focus()
            self.query_one("#error", Static).update(
                f"{len(detail)} learners match: pick one and press Enter."
            )
        else:
            self.query_one("#error", Static).update(one_line(detail))
            self.query_one("#ref", Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_list.id == "recent" and event.option.id:
            kind, _, ref = event.option.id.partition(":")
            self.query_one("#ref", Input).value = ref
            self.open(SubjectKind(kind), ref)
            return
        self.query_one("#choices", OptionList).remove_class("shown")
        self.query_one("#error", Static).update("")
        if event.option.id:
            self.open(SubjectKind.LEARNER, event.option.id)
