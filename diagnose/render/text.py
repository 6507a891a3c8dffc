"""Doctor-style terminal output: one line a check (✓ ! ✗ – ☠), the fix under each failure,
grouped by what the finding is about, and a one-line summary."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterator, Mapping
from typing import Any

from diagnose import __version__
from diagnose.checking import Check
from diagnose.model import VERDICTS, Diagnosis, Finding, Status
from diagnose.textsafe import counted, one_line

COLOURS = {
    Status.PASS: "green",
    Status.WARN: "yellow",
    Status.FAIL: "red",
    Status.SKIP: "bright_black",
    Status.ERROR: "magenta",
}
NEXT_STEP = {Status.FAIL: " Follow the fixes above.", Status.WARN: " Look at them above."}
SGR = {
    "bold": "1",
    "underline": "4",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "magenta": "35",
    "cyan": "36",
    "bright_black": "90",
}


def style(text: str, fg: str | None = None, *, bold: bool = False, underline: bool = False) -> str:
    """`text` in the terminal's own colours (never a fixed foreground such as white); plain
    when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return text
    codes = [SGR[n] for n, on in (("bold", bold), ("underline", underline)) if on]
    codes += [SGR[fg]] if fg else []
    return f"\x1b[{';'.join(codes)}m{text}\x1b[0m" if codes else text


def width() -> int:
    """The terminal's width ($COLUMNS, else 100 when the output is not a terminal), kept
    between 60 and 160 columns to stay readable."""
    return max(60, min(shutil.get_terminal_size((100, 24)).columns, 160))


def _glyph(status: Status) -> str:
    return style(status.glyph, fg=COLOURS[status], bold=status is not Status.SKIP)


def fitted(line: str, indent: str = "", first: str = "") -> list[str]:
    """One line cut to the terminal's width, `first` before it and `indent` before each line it
    continues on; an address or an email is never cut in two."""
    return textwrap.wrap(
        line,
        width(),
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first or line]


def _wrap(text: str, indent: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines.extend(fitted(paragraph, indent, indent) if paragraph else [indent])
    return lines


def banner(d: Diagnosis) -> list[str]:
    """Whose data this is, and what was checked when: a line each, or more on a narrow
    terminal (each part wrapped on its own, its style kept)."""
    if d.mode == "sandbox":
        where, look = f"SANDBOX · {d.tenant} · sample data, not your organisation", "cyan"
    else:
        where, look = f"LIVE · {one_line(d.tenant)}", None
    tool = f"diagnose {__version__}"
    headline = one_line(d.headline)
    checked = f"checked {d.taken_at.strftime('%Y-%m-%d %H:%M UTC')}"
    if len(f"{tool} · {where}") <= width():
        lines = [f"{tool} · {style(where, fg=look, bold=True)}"]
    else:
        lines = [tool, *(style(line, fg=look, bold=True) for line in _wrap(where, ""))]
    if len(f"{headline} · {checked}") <= width():
        return [*lines, f"{style(headline, bold=True)} · {checked}"]
    return [*lines, *(style(line, bold=True) for line in _wrap(headline, "")), checked]


def _evidence_lines(evidence: Mapping[str, Any]) -> Iterator[str]:
    for key, value in evidence.items():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            yield f"      {key}:"
            for row in value:
                yield "        - " + one_line(", ".join(f"{k}={v}" for k, v in row.items()))
        else:
            yield f"      {key}: {one_line(value)}"


def finding_lines(f: Finding, verbose: bool) -> list[str]:
    hang = " " * 29  # under the message, past the glyph and the check id
    said = textwrap.wrap(one_line(f.message), max(width() - len(hang), 30)) or [""]
    lines = [f"  {_glyph(f.status)} {f.check_id:<24} {said[0]}", *(hang + x for x in said[1:])]
    if verbose:  # the condition checked, never printed as if it held beside a ✗
        lines += _wrap(f"Expected: {f.title}", "      ")
    for link in f.links:
        lines.append(f"      → {link}")
    if f.fix and f.status in (Status.FAIL, Status.WARN):
        fix = one_line(f.fix)
        wrapped = _wrap("Fix: " + fix, "      ")
        lines += wrapped  # the terminal's own colour: readable on dark and light alike
    if verbose and f.evidence:
        lines += list(_evidence_lines(f.evidence))
    return lines


def summary(d: Diagnosis, elapsed: float | None) -> str:
    parts = [
        f"{d.count(Status.FAIL)} failed",
        counted(d.count(Status.WARN), "warning"),
        f"{d.count(Status.ERROR)} could not be decided",
        f"{d.count(Status.PASS)} passed",
        f"{d.count(Status.SKIP)} skipped",
    ]
    calls = f"{counted(len(d.calls), 'API call')} in {counted(d.rounds, 'round')}"
    if elapsed is not None:
        calls += f", {elapsed:.2f} s"
    verdict = VERDICTS[d.status] + NEXT_STEP.get(d.status, "")
    head = style(f"{d.status.glyph} {verdict}", fg=COLOURS[d.status], bold=True)
    counts, made = " · ".join(parts), f"({calls})"
    if len(f"{counts} {made}") <= width():
        return f"{head}\n{counts} {made}"
    return "\n".join([head, *_wrap(counts, ""), made])


def diagnosis_text(d: Diagnosis, *, verbose: bool = False, elapsed: float | None = None) -> str:
    lines = banner(d)
    groups: dict[str, list[Finding]] = {}
    for f in d.findings:
        groups.setdefault(f.target.label, []).append(f)
    for label, findings in groups.items():
        shown = [f for f in findings if verbose or f.status.noteworthy]
        if not shown:
            continue
        lines.append("")
        lines.append(style(one_line(label), underline=True))
        for f in shown:
            lines += finding_lines(f, verbose)
    if verbose and d.calls:
        lines.append("")
        lines.append(style("API calls", underline=True))
        for c in d.calls:
            status = c.status if c.status is not None else "no answer"
            corr = f"  correlation {c.correlation_id}" if c.correlation_id else ""
            call = f"{c.service.value:<7} {c.method} {one_line(c.path)}"
            lines.append(f"  r{c.round} {call}  → {status}  {c.ms:.0f} ms{corr}")
    lines.append("")
    lines.append(summary(d, elapsed))
    return "\n".join(lines)


def catalogue_text(checks: tuple[Check, ...], verbose: bool = False) -> str:
    lines = []
    for c in checks:
        needs = f"  (needs {', '.join(c.requires)})" if c.requires and verbose else ""
        row = f"{c.id:<26} {c.applies_to:<8} {c.title}{needs}"
        lines += fitted(row, " " * 36)
        if verbose:
            lines += _wrap(c.explanation, "    ")
            lines += _wrap("Fix: " + c.fix.replace("\n", " "), "    ")
            lines.append("")
    return "\n".join(lines)
