"""The remedy journal: an intent is written before the first write and removed after the last.

One small JSON file an entry in `<data folder>/journal/`, replaced atomically at each step, so a
process killed at any point leaves either no entry (nothing started, or everything finished) or
an entry saying how far it got. Any later `diagnose` command finishes what it finds.

The process working on an entry holds the entry's lock until it is finished (the system lets go
of it when the process dies), so another process never takes over a re-toggle still under way,
and two processes never finish the same entry.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from diagnose.paths import journal_dir, write_atomically


@dataclass
class Entry:
    action: str  # "resync"
    learner_id: int
    sandbox: str  # "demo", or the tenant file the sandbox serves; "" on a live profile
    was_ticked: bool
    profile: str = "sandbox"  # the profile it was written through, and so must be finished
    organisation: str = ""  # the Xero organisation, by name and id
    organisation_id: str = ""
    wisenet: str = ""  # the Wisenet tenant the learner lives in
    state: str = "intent"  # intent → unticked → done
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def path(self) -> Path:
        return journal_dir() / f"{self.id}.json"


if TYPE_CHECKING:
    from filelock import FileLock

_held: dict[str, FileLock] = {}  # entries this process works on, by id


def _claim(entry_id: str) -> bool:
    """Take the entry's lock unless another live process holds it."""
    if entry_id in _held:
        return True
    from filelock import FileLock, Timeout  # only when there is an entry: start-up stays quick

    folder = journal_dir()
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / f"{entry_id}.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return False
    _held[entry_id] = lock
    return True


def write(entry: Entry) -> None:
    if not _claim(entry.id):  # pragma: no cover — a new id; only a clash of uuid4s
        raise RuntimeError(f"journal entry {entry.id} is another process's")
    write_atomically(entry.path, json.dumps(asdict(entry)) + "\n")


def finish(entry: Entry) -> None:
    entry.path.unlink(missing_ok=True)
    lock = _held.pop(entry.id, None)
    if lock is not None:
        lock.release()
        Path(lock.lock_file).unlink(missing_ok=True)


def pending() -> list[Entry]:
    """Unfinished entries no other live process is working on, oldest first; this process
    holds each one's lock from here on. A cheap listing when there are none."""
    folder = journal_dir()
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.json")):
        if not _claim(path.stem):
            continue  # under way in another process
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:  # finished meanwhile
            _held.pop(path.stem).release()
            continue
        except (OSError, ValueError, RecursionError):
            document = None
        entry = _valid(document, path.stem)
        if entry is None:
            set_aside(path)
            _held.pop(path.stem).release()
            continue
        found.append(entry)
    return sorted(found, key=lambda e: e.started)


SET_ASIDE: list[Path] = []  # broken entries moved aside by this process, for a note


def set_aside(path: Path) -> None:
    """A damaged entry is renamed `.broken`, out of the way of every later command."""
    broken = path.with_suffix(".broken")
    try:
        path.replace(broken)
    except OSError:
        return
    SET_ASIDE.append(broken)


def _valid(document: object, entry_id: str) -> Entry | None:
    """The entry a journal file holds, with every field of the right type and a LearnerId that
    can only be a path segment of digits; None when it is anything else."""
    if not isinstance(document, dict):
        return None
    try:
        entry = Entry(**document)
    except TypeError:
        return None
    texts = ("action", "sandbox", "profile", "organisation", "organisation_id", "wisenet")
    fine = (
        entry.id == entry_id
        and entry.action == "resync"
        and type(entry.learner_id) is int
        and 0 < entry.learner_id < 2**31
        and type(entry.was_ticked) is bool
        and entry.state in ("intent", "unticked", "done")
        and all(isinstance(getattr(entry, name), str) for name in (*texts, "started", "state"))
    )
    return entry if fine else None
