"""What the walkthrough keeps between runs, in the data folder's `tui.json`: the chosen theme
and the recent lookups of each profile. A file that cannot be read or written is no reason to
interrupt anyone: it is read as empty and left as it was."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from diagnose.errors import DiagnoseError
from diagnose.paths import data_dir, write_atomically

RECENT_SHOWN = 6
RECENT_KEPT = 30  # all profiles together


def prefs_file() -> Path:
    """Read each time: the data folder may move."""
    return data_dir() / "tui.json"


def load() -> dict[str, Any]:
    try:
        document = json.loads(prefs_file().read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError, DiagnoseError):
        return {}
    return document if isinstance(document, dict) else {}


def save(**changes: Any) -> None:
    with contextlib.suppress(OSError, DiagnoseError):
        write_atomically(prefs_file(), json.dumps({**load(), **changes}, ensure_ascii=False))


def recent(profile: str) -> list[tuple[str, str, str]]:
    """The profile's latest lookups, newest first: (kind, what was typed, what it found)."""
    found = []
    for entry in load().get("recent", []):
        if not isinstance(entry, dict) or entry.get("profile") != profile:
            continue
        kind, ref, label = (entry.get(k) for k in ("kind", "ref", "label"))
        if kind in ("learner", "invoice") and isinstance(ref, str) and isinstance(label, str):
            found.append((kind, ref, label))
    return found[:RECENT_SHOWN]


def remember(profile: str, kind: str, ref: str, label: str) -> None:
    """Put a lookup first in the profile's recent list (once: the same lookup moves up)."""
    same = (profile, kind, ref.strip().casefold())
    kept = [
        entry
        for entry in load().get("recent", [])
        if isinstance(entry, dict)
        and (entry.get("profile"), entry.get("kind"), str(entry.get("ref", "")).casefold()) != same
    ]
    entry = {"profile": profile, "kind": kind, "ref": ref.strip(), "label": label}
    save(recent=[entry, *kept][:RECENT_KEPT])
