"""Text made safe to put in a Word document (XML 1.0) or on a terminal.

Removes ANSI escape sequences, NUL and other control characters, lone surrogates and the two
non-characters XML forbids; keeps tabs, newlines and everything printable, emoji included.
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")


@functools.cache
def _not_xml() -> re.Pattern[str]:
    """What XML 1.0 forbids, compiled when first needed: its ranges take 7 ms to compile, which
    a command or a screen that cleans no text should not spend as it starts."""
    return re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


_C1 = re.compile("[\x7f-\x9f]")


def xml_safe(value: object) -> str:
    """`value` as text that any XML 1.0 document accepts, with escape sequences removed."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if text.isprintable():  # most text: nothing to remove (what the patterns below remove is
        return text  # never printable: control characters, surrogates, U+FFFE and U+FFFF)
    return _C1.sub("", _not_xml().sub("", _ANSI.sub("", text)))


def strip_ansi(text: str) -> str:
    """Terminal styling removed, nothing else."""
    return _ANSI.sub("", text)


def one_line(value: object) -> str:
    """Like `xml_safe`, for a single terminal line: newlines and tabs become spaces."""
    return re.sub(r"[\t\r\n]+", " ", xml_safe(value))


def flowed(text: str) -> str:
    """The lines of each paragraph joined by single spaces, the paragraphs (a blank line
    between) kept apart by one newline: text wrapped to fit a source file, as one reads it."""
    return "\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()))


def json_text(document: Any, *, indent: int | None = None) -> str:
    """JSON that any UTF-8 writer accepts: readable non-ASCII text, unless the data holds a lone
    surrogate (valid in JSON, impossible in UTF-8), which is then written as an escape."""
    document = _finite(document)
    text = json.dumps(document, ensure_ascii=False, indent=indent, default=str, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(document, ensure_ascii=True, indent=indent, default=str, allow_nan=False)
    return text


def _finite(value: Any) -> Any:
    """Strict JSON has no NaN or Infinity: such a number is written as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def duration(seconds: float) -> str:
    """A span of time as a person reads it: seconds under two minutes (but "1 min"), else hours
    and minutes (rounded up to the minute)."""
    whole = max(0, -(-int(seconds * 1000) // 1000))  # whole seconds, rounded up
    if whole < 120 and whole != 60:
        return f"{whole} s"
    hours, minutes = divmod(-(-whole // 60), 60)
    return " ".join([f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes))


def counted(n: int, word: str, plural: str = "") -> str:
    """`1 warning`, `2 warnings`, `1,430 invoices`; `plural` where adding an s is wrong."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"
