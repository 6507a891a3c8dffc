"""The remedy journal: an intent is written before the first write and removed after the last.

One small JSON file an entry in `<data folder>/journal/`, replaced atomically at each step, so a
process killed at any point leaves either no entry (nothing started, or everything finished) or
an entry saying how far it got. Any later `diagnose` command finishes what it finds.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from diagnose.paths import journal_dir, write_atomically


@dataclass
class Entry:
    action: str  # "resync"
    learner_id: int
    sandbox: str  # "demo", or the tenant file the sandbox serves
    was_ticked: bool
    state: str = "intent"  # intent → unticked → done
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def path(self) -> Path:
        return journal_dir() / f"{self.id}.json"


def write(entry: Entry) -> None:
    write_atomically(entry.path, json.dumps(asdict(entry)) + "\n")


def finish(entry: Entry) -> None:
    entry.path.unlink(missing_ok=True)


def pending() -> list[Entry]:
    """Unfinished entries, oldest first. A cheap listing when there are none."""
    folder = journal_dir()
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            found.append(Entry(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue  # a half-written file cannot exist (atomic writes); skip anything foreign
    return sorted(found, key=lambda e: e.started)
