"""The Textual app: screens, global keys and the command palette.

One app serves the CLI (`diagnose tui`, which hands it the core it opened for the sandbox or a
live profile) and the tests, which pass `sandbox_app` to watch or break the sandbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from diagnose.core import Core, open_core
from diagnose.model import SubjectKind
from diagnose.tui import prefs
from diagnose.tui.start import StartScreen


class DiagnoseApp(App[None]):
    TITLE = "diagnose"
    SUB_TITLE = "Wisenet ↔ Xero sync walkthrough"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+q", "quit", "Quit", id="quit-anywhere", show=False),
        Binding("question_mark,f1", "help", "Help", id="help", show=False),  # each screen shows its
    ]

    def __init__(
        self,
        *,
        core: Core | None = None,
        sandbox: Path | None = None,
        profile: str | None = None,
        kind: SubjectKind | None = None,
        ref: str | None = None,
        sandbox_app: Any = None,
    ) -> None:
        super().__init__()
        self.core = core or open_core(profile, sandbox, sandbox_app=sandbox_app)
        self.start = (kind, ref)

    def on_mount(self) -> None:
        chosen = prefs.load().get("theme")  # the theme chosen last time (ctrl+p › theme)
        if isinstance(chosen, str) and chosen in self.available_themes:
            self.theme = chosen
        self.theme_changed_signal.subscribe(self, self.keep_theme)
        kind, ref = self.start
        if self.core.live:
            self.sub_title = f"LIVE · profile {self.core.profile.name}"
        self.push_screen(StartScreen(self.core, kind=kind, ref=ref))

    def keep_theme(self, theme: Any) -> None:
        prefs.save(theme=self.theme)

    def action_help(self) -> None:
        from diagnose.tui.dialogs import HelpScreen  # Markdown and its parser: when asked

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        from diagnose.tui.walkthrough import WalkthroughScreen  # loaded with the first lookup

        if isinstance(screen, WalkthroughScreen):
            yield SystemCommand(
                "Re-run the checks", "Ask Wisenet and Xero again", screen.action_rerun
            )
            yield SystemCommand(
                "Re-toggle Sync to Xero",
                "Untick and tick it again, after showing the exact writes",
                screen.action_retoggle,
            )
            if screen.lost_code():
                yield SystemCommand(
                    "Fix the Contact Code",
                    "Give the learner's look-alike contact back its lost Contact Code",
                    screen.action_fix_code,
                )
            yield SystemCommand("Word support request", "Write the .docx", screen.action_report)
            yield SystemCommand("Save snapshot", "Write the evidence as JSON", screen.action_save)
            yield SystemCommand("Copy summary", "Copy the diagnosis as text", screen.action_copy)
        yield SystemCommand("Help: all keys", "Every key of this screen", self.action_help)
