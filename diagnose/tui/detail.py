"""One check in full: why it matters, what was found, the evidence, the fix as steps."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown, Static

from diagnose.model import Finding
from diagnose.report import Report, Table
from diagnose.tui.dialogs import open_links

SECTIONS_FOR = {
    "learner": ("Wisenet learner",),
    "contact": ("Xero contact search", "Xero contact"),
    "invoice": ("Xero invoice(s)", "Wisenet Xero Invoices tab"),
    "alerts": ("Event alerts",),
    "connection": (),
}


def _cell(text: str) -> str:
    """Table-cell text that Markdown shows as written."""
    escaped = re.sub(r"([\\`*_{}\[\]<>#|!~])", r"\\\1", text)
    return " ".join(escaped.split())


WIDE = 4  # more columns than this do not fit 80 columns as a table: one record a line instead


def _table(table: Table) -> list[str]:
    lines = [f"**{_cell(table.title)}**", ""] if table.title not in ("", "Evidence") else []
    if len(table.columns) > WIDE:
        for row in table.rows:
            pairs = zip(table.columns, row, strict=False)
            lines.append("- " + " · ".join(f"{_cell(c)}: {_cell(v)}" for c, v in pairs if v))
        return [*lines, ""]
    lines.append("| " + " | ".join(_cell(c) for c in table.columns) + " |")
    lines.append("|" + " --- |" * len(table.columns))
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.rows]
    return [*lines, ""]


def steps(fix: str) -> list[str]:
    """A fix as numbered steps: one a sentence."""
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z\"“])", " ".join(fix.split()))
    return [f"{i}. {_cell(s)}" for i, s in enumerate(sentences, 1) if s]


def detail_markdown(finding: Finding, report: Report) -> str:
    lines = [
        f"# {finding.status.glyph} {finding.check_id}",
        f"{_cell(finding.target.label)} · **{finding.status.value}** · expected: "
        f"{_cell(finding.title)}",
        "",
        "## Why it matters",
        _cell(finding.explanation or finding.title),
        "",
        "## What we found",
        _cell(finding.message),
        "",
    ]
    if finding.fix:
        lines += ["## How to fix it", *steps(finding.fix), ""]
    if finding.links:
        lines += ["## In Xero", *(f"- <{link}>" for link in finding.links), ""]
    own = next(
        (
            b
            for b in report.blocks
            if b.heading.startswith(f"{finding.status.glyph} {finding.check_id} ")
        ),
        None,
    )
    tables = [item for item in (own.items if own else []) if isinstance(item, Table)]
    if tables:
        lines += ["## Evidence", ""]
        for table in tables:
            lines += _table(table)
    for block in report.blocks:
        if block.heading in SECTIONS_FOR.get(finding.check_id.split(".")[0], ()):
            lines += [f"## {block.heading}", ""]
            for item in block.items:
                lines += _table(item) if isinstance(item, Table) else [_cell(item), ""]
    return "\n".join(lines)


def pane_markdown(finding: Finding) -> str:
    """The selected check beside the table: what was found whole, and the fix as steps."""
    lines = [
        f"**{finding.status.glyph} {finding.check_id}** · {_cell(finding.target.label)}",
        "",
        _cell(finding.message),
        "",
        f"*Expected:* {_cell(finding.title)}",
        "",
    ]
    if finding.fix:
        lines += ["**How to fix it**", "", *steps(finding.fix), ""]
    lines += [f"- <{link}>" for link in finding.links]
    lines += ["", "*Enter: the evidence in full*"]
    return "\n".join(lines)


class DetailScreen(Screen[None]):
    DEFAULT_CSS = """
    DetailScreen #trail { color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("question_mark", "app.help", "Help", tooltip="Every key, and what the marks mean"),
        Binding("o", "open_link", "Open in Xero", id="open-link"),
    ]

    def __init__(self, finding: Finding, report: Report, *, trail: str = "") -> None:
        super().__init__()
        self.finding = finding
        self.report = report
        self.trail = trail  # Start › the subject › the check

    def compose(self) -> ComposeResult:
        yield Header()
        if self.trail:
            yield Static(self.trail, id="trail", markup=False)
        with VerticalScroll(id="detail"):
            yield Markdown(detail_markdown(self.finding, self.report))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#detail", VerticalScroll).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_link":
            return bool(self.finding.links)
        return True

    def action_open_link(self) -> None:
        open_links(self, self.finding.links)
