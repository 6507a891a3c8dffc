"""Print how long the walkthrough takes to show its first screen, beside a minimal Textual app.

    python bench/tui.py [--runs 7]

Each run is a fresh process that imports what it needs, starts the app headless (Textual's test
driver, 80×24) and stops once the first screen is up: the minimal app shows one line; the
walkthrough shows its start screen (`diagnose tui`) and, separately, the checks of learner 123
(`diagnose tui learner 123`, the sandbox's answers included); and, to tell Textual's share from
diagnose's, a bare app with the start screen's widgets, and the same widgets shown as the start
screen shows them (a screen of their own with its style sheet, key bindings and the box focused),
diagnose's code left out. Printed: the CPU seconds of each process
(best and median), the walkthrough's as a multiple of the minimal app's, and what the start
screen spends beyond its widgets. Target: the start screen within 1.5× the minimal app. This
script reports; it does not judge.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile

from installed import ENV

MINIMAL = """
import asyncio, resource
from textual.app import App
from textual.widgets import Static

class Minimal(App[None]):
    def compose(self):
        yield Static("hello")

async def main():
    async with Minimal().run_test(size=(80, 24)) as pilot:
        await pilot.pause()

asyncio.run(main())
"""

# The start screen's widgets (the ids are its style sheet's), composed by both apps below
WIDGETS = """
        yield Header()
        with Vertical(id="form"):
            yield Static("What is not syncing?")
            with RadioSet():
                yield RadioButton("A learner is not reaching Xero", value=True)
                yield RadioButton("An invoice is not reaching Wisenet")
            yield Label("Learner: a LearnerId, RefInternal or name")
            yield Input(placeholder="123, STD0000123 or Jane Citizen", id="ref")
            yield Static("Enter diagnoses", id="keys")
            yield Static("", id="error")
            yield OptionList(id="choices")
            yield Static("SANDBOX", id="where")
        yield Footer()
"""

IMPORTS = """
import asyncio
from textual.app import App
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Label, OptionList, RadioButton, RadioSet, Static
"""

SAME_WIDGETS = (
    IMPORTS
    + """
class SameWidgets(App[None]):
    def compose(self):"""
    + WIDGETS
    + """
async def main():
    async with SameWidgets().run_test(size=(80, 24)) as pilot:
        await pilot.pause()

asyncio.run(main())
"""
)

ESSENTIALS = (
    IMPORTS
    + """
class Start(Screen[None]):
    DEFAULT_CSS = \"\"\"
    Start #form { padding: 1 2; height: auto; }
    Start RadioSet { width: 100%; margin-bottom: 1; }
    Start #error { color: $error; height: auto; margin-top: 1; }
    Start #choices { height: auto; max-height: 8; display: none; }
    Start #where { color: $text-muted; margin-top: 1; }
    Start #keys { color: $text-muted; }
    \"\"\"
    BINDINGS = [Binding("enter", "go", "Diagnose"), Binding("f1", "app.help", "Help")]

    def compose(self):"""
    + WIDGETS
    + """
    def on_mount(self):
        self.query_one("#ref").focus()

class Essentials(App[None]):
    TITLE = "diagnose"
    SUB_TITLE = "Wisenet ↔ Xero sync walkthrough"

    def on_mount(self):
        self.push_screen(Start())

async def main():
    async with Essentials().run_test(size=(80, 24)) as pilot:
        await pilot.pause()

asyncio.run(main())
"""
)

WALKTHROUGH = """
import asyncio, sys
from diagnose.model import SubjectKind
from diagnose.tui.app import DiagnoseApp

async def main():
    ref = sys.argv[1] if len(sys.argv) > 1 else None
    app = DiagnoseApp(kind=SubjectKind.LEARNER if ref else None, ref=ref)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()

asyncio.run(main())
"""


def cpu_of(code: str, *args: str) -> float:
    """The CPU seconds (user + system) of a fresh process running `code`, with a data folder
    of its own (no recent lookups or theme kept from earlier runs: a first start)."""
    probe = (
        "import resource, runpy, sys\n"
        f"exec(compile({code!r}, 'bench', 'exec'))\n"
        "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
        "print(usage.ru_utime + usage.ru_stime, file=sys.stderr)\n"
    )
    with tempfile.TemporaryDirectory() as data:
        done = subprocess.run(
            [sys.executable, "-c", probe, *args],
            capture_output=True,
            text=True,
            check=True,
            env={**ENV, "DIAGNOSE_DATA_DIR": data},
        )
    return float(done.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    figures = {}
    for name, code, args in (
        ("minimal Textual app", MINIMAL, ()),
        ("start screen's widgets, bare", SAME_WIDGETS, ()),
        ("the same, as the start screen", ESSENTIALS, ()),
        ("diagnose tui (start screen)", WALKTHROUGH, ()),
        ("diagnose tui learner 123", WALKTHROUGH, ("123",)),
    ):
        cpu_of(code, *args)  # the first run writes the bytecode
        times = [cpu_of(code, *args) for _ in range(runs)]
        figures[name] = statistics.median(times)
        print(f"{name:<30} cpu best {min(times):.2f} s, median {statistics.median(times):.2f} s")
    base = figures["minimal Textual app"]
    for name in ("diagnose tui (start screen)", "diagnose tui learner 123"):
        print(f"{name:<30} {figures[name] / base:.1f}x the minimal app (median)")
    bare = figures["start screen's widgets, bare"]
    own = figures["diagnose tui (start screen)"] - bare
    print(f"of the start screen, diagnose's own (beyond its widgets in a bare app): {own:.2f} s")
    same = figures["the same, as the start screen"]
    print(
        f"the same widgets as the start screen shows them: {same / base:.1f}x the minimal app; "
        f"diagnose's own beyond that {figures['diagnose tui (start screen)'] - same:.2f} s"
    )


if __name__ == "__main__":
    main()
