"""What a scan keeps between runs: the pages it fetched, a resource at a time, with when each was
fetched, in the user cache folder (one folder a tenant). Reading and forgetting them needs no
network: a reset or a write through diagnose drops what it made stale without loading a client."""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from diagnose import parse
from diagnose.model import Finding, ProblemKind, Status, Target, TargetKind
from diagnose.paths import cache_dir, write_atomically
from diagnose.scan_rows import BLOCK, Rows, RowsWriter


def folder_for(key: str) -> Path:
    """Where the scan keeps the pages of the tenant `key` names (`sandbox_key`, `live_key`)."""
    return cache_dir() / "scan" / hashlib.sha256(key.encode()).hexdigest()[:16]


def sandbox_key(source: Path) -> str:
    return f"sandbox:{source.resolve()}"


def live_key(profile: str, tenant_id: str) -> str:
    return f"live:{profile}:{tenant_id}"


RESOURCES = ("learners", "wisenet_invoices", "contacts", "invoices")
KEYS: dict[str, Callable[[Any], str]] = {
    "learners": lambda r: parse.text(parse.unwrap(r)[0], "LearnerId"),
    "wisenet_invoices": lambda r: (
        parse.text(parse.unwrap(r)[0], "InvoiceId")
        or parse.text(parse.unwrap(r)[0], "InvoiceNumber")
    ),
    "contacts": lambda r: parse.text(r, "ContactID"),
    "invoices": lambda r: parse.text(r, "InvoiceID"),
}
NAMES = {
    "learners": "Wisenet learners",
    "wisenet_invoices": "Wisenet invoices",
    "contacts": "Xero contacts",
    "invoices": "Xero invoices",
}
OVERLAP = timedelta(minutes=2)  # changes made while a page was being read are read again


@dataclass
class Cache:
    """The pages a scan fetched, a resource at a time, with when each was fetched: the next
    scan asks only for what changed since, and an interrupted one resumes where it stopped.
    Two files a resource in `folder` (its rows, then a small head naming when they were fetched,
    how many there are and their checksum), so saving what a round brought rewrites only that."""

    folder: Path | None
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was set aside, for the person to read
    changed: set[str] = field(default_factory=set)  # resources whose rows differ from the kept
    # each resource's rows that changed, as kept before and as fetched now (new ones included);
    # None when it is not known (fetched in full, or too many to keep)
    delta: dict[str, list[Any] | None] = field(default_factory=dict)
    loaded: str = ""  # the generation of the rows as loaded, before this scan merged any
    reread: set[str] = field(default_factory=set)  # resources read in full after a write
    # rows each resource had when kept: a hint of how many pages a full read asks for
    sizes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path | None) -> Cache:
        """The cached pages; a resource whose files are damaged, or stamped in the future (a
        clock that moved), is set aside with a note and fetched in full. The rows' checksum is
        checked as they are opened; they are decoded only if the scan needs them (a scan that
        finds nothing changed never does), a row at a time."""
        cache = cls(folder)
        if folder is None:
            return cache
        now = datetime.now(UTC)
        for resource in RESOURCES:
            path = folder / f"{resource}.json"
            try:
                head = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(head, dict) and head.get("format") != CACHE_FORMAT:
                    continue  # written by an earlier diagnose: fetched in full, nothing to say
                why = _damage(head, now)
                if not why:
                    kept = folder / f"{resource}.rows.jsonl"
                    rows = Rows.kept(kept, head["count"], head["crc32"], NAMES[resource])
            except (FileNotFoundError, NotADirectoryError):
                continue  # nothing kept (yet): fetched in full
            except ValueError:
                why = "is damaged"
            except (OSError, RecursionError):
                why = "could not be read"
            if why:
                cache.notes.append(f"the kept copy of the {NAMES[resource]} {why}: fetched again")
                continue
            cache.resources[resource] = {**head, "rows": rows}
            cache.sizes[resource] = head["count"]
        cache.loaded = cache.generation()
        return cache

    @classmethod
    def emptied(cls, folder: Path) -> Cache:
        """The cache of `folder` forgotten (a scan from nothing), but for how many rows each
        resource had: a hint of how many pages to ask for."""
        sizes = {}
        for resource in RESOURCES:
            with contextlib.suppress(OSError, ValueError, RecursionError):
                head = json.loads((folder / f"{resource}.json").read_text(encoding="utf-8"))
                count = head.get("count") if isinstance(head, dict) else None
                if isinstance(count, int) and count >= 0:
                    sizes[resource] = count
        cls(folder).forget()
        cache = cls.load(folder)
        cache.sizes = sizes
        return cache

    def forget(self, *resources: str) -> None:
        """Drop what a write or a reset made stale: the next scan fetches it in full."""
        for resource in resources or RESOURCES:
            self.resources.pop(resource, None)
            if self.folder is not None:
                with contextlib.suppress(OSError):  # a folder that cannot hold it holds none
                    (self.folder / f"{resource}.json").unlink(missing_ok=True)
                    (self.folder / f"{resource}.rows.jsonl").unlink(missing_ok=True)
                    (self.folder / f"{resource}.rows.json").unlink(missing_ok=True)  # format /2
        forget_findings(self.folder)

    def refetch(self, *resources: str) -> None:
        """A write through diagnose changed some of these records: the next scan reads each in
        full rather than trusting that the write shows among what changed since, and compares
        it with the kept rows (so only what the write changed is checked again). A head that
        cannot be marked is dropped with its rows."""
        if self.folder is None:
            return
        for resource in resources:
            path = self.folder / f"{resource}.json"
            try:
                head = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(head, dict):
                    raise ValueError("not a head")
                write_atomically(path, json.dumps({**head, "refetch": True}))
            except FileNotFoundError:
                continue  # nothing kept: fetched in full anyway
            except (OSError, ValueError, RecursionError):
                self.forget(resource)

    def since(self, resource: str) -> datetime | None:
        """Ask for what changed since then; None: read it all."""
        entry = self.resources.get(resource)
        if not entry or entry.get("refetch"):
            return None
        return datetime.fromisoformat(entry["fetched_at"])

    def writer(self, resource: str) -> RowsWriter:
        """Where a resource's fetched rows go as they come (in the cache's folder, if any)."""
        return Rows.writer(self.folder, NAMES[resource])

    def merge(self, resource: str, fetched: Rows, started: datetime) -> Rows:
        """The cached rows updated with those just fetched (kept by key, in first-seen order).
        When nothing new came, the kept rows as they are."""
        entry = self.resources.get(resource)
        whole = bool(entry and entry.get("refetch"))  # read in full: a row not in it is gone
        if whole:
            self.reread.add(resource)
        if entry is not None and not fetched and not whole:  # nothing new: the kept rows
            self.delta[resource] = []
            kept: Rows = entry["rows"]
            return kept
        merged = fetched
        if entry is None:
            self.changed.add(resource)  # fetched in full: nothing to compare it with
            self.delta[resource] = None
        else:
            merged = self._updated(resource, entry["rows"], fetched, whole=whole)
        same = entry is not None and resource not in self.changed
        self.resources[resource] = {
            "format": CACHE_FORMAT,
            "fetched_at": (started - OVERLAP).isoformat(),
            # the rows' own version: kept while they do not change, new when they do
            "generation": entry.get("generation", "") if same and entry else uuid.uuid4().hex,
            "rows": merged,
        }
        return merged

    def _updated(self, resource: str, kept: Rows, fetched: Rows, *, whole: bool = False) -> Rows:
        """`kept` with each row `fetched` holds by its key, in its place or after them all; a
        row read again that is the same (the overlap of two scans) is no change. When `fetched`
        is `whole`, a kept row it does not hold is gone (and the rows after it move: which
        changed is then not followed)."""
        key = KEYS[resource]
        new = {key(row): n for n, row in enumerate(fetched)}
        into = self.writer(resource)
        delta: list[Any] | None = []
        for start in range(0, len(kept), BLOCK):
            end = min(start + BLOCK, len(kept))
            for row, line in zip(kept.block(start, end), kept.lines(start, end), strict=True):
                n = new.pop(key(row), None)
                if n is None and whole:
                    self.changed.add(resource)
                    delta = None
                    continue
                if n is None:
                    into.add_line(line)
                    continue
                again = fetched[n]
                if again != row:
                    self.changed.add(resource)
                    delta = _noted(delta, 2, (row, again))
                into.add([again])
        if new:
            self.changed.add(resource)
            added = sorted(new.values())
            delta = _noted(delta, len(added), (fetched[n] for n in added))
            into.add(fetched[n] for n in added)
        self.delta[resource] = delta
        fetched.close()
        return into.done()

    def to_save(self, *resources: str) -> list[str]:
        """Of `resources`, those whose kept copy is not what was merged: their rows changed, or
        they were read in full after a write (and are no longer to be)."""
        return [r for r in resources if r in self.changed or r in self.reread]

    def generation(self) -> str:
        """Which rows the cache holds: it changes whenever any resource's rows change, so the
        findings of one scan are never taken for another's (two scans at once included)."""
        return ".".join(str(self.resources.get(r, {}).get("generation", "")) for r in RESOURCES)

    def save(self, *resources: str) -> None:
        """Each resource written whole beside its file, then renamed into place."""
        if self.folder is None:
            return
        try:
            self._save(self.folder, resources)
        except OSError as exc:  # the scan stands; the next one fetches in full
            self.notes.append(
                f"the pages could not be kept in {self.folder} ({exc.strerror or exc}): the next "
                "scan fetches them all again"
            )
            self.folder = None

    def _save(self, folder: Path, resources: tuple[str, ...]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for resource in resources:
            if resource not in self.resources:
                continue
            entry = self.resources[resource]
            rows: Rows = entry["rows"]
            check = Checksum()
            write_atomically(folder / f"{resource}.rows.jsonl", check.of(rows.raw()))
            head = {k: v for k, v in entry.items() if k != "rows"}
            head.update(count=len(rows), crc32=check.value)
            write_atomically(folder / f"{resource}.json", json.dumps(head))  # last: names them
            with contextlib.suppress(OSError):  # what an earlier diagnose kept (format /2)
                (folder / f"{resource}.rows.json").unlink(missing_ok=True)


def _noted(delta: list[Any] | None, count: int, rows: Iterable[Any]) -> list[Any] | None:
    """`delta` with `rows` (`count` of them) added, or None once it would hold more than
    `DELTA_ROOM` (then every subject is checked again: so many changes touch most of them)."""
    if delta is None or len(delta) + count > DELTA_ROOM:
        return None
    delta.extend(rows)
    return delta


DELTA_ROOM = 5000  # changed rows of a resource kept to tell which subjects they touch
CACHE_FORMAT = "diagnose-scan-cache/3"  # /1 held the rows inside the head; /2 as one array


class Checksum:
    """The CRC-32 of what passes through `of`."""

    def __init__(self) -> None:
        self.value = 0

    def of(self, pieces: Iterator[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self.value = zlib.crc32(piece, self.value)
            yield piece


def _damage(head: Any, now: datetime) -> str:
    """What is wrong with a cached resource's head; "" when nothing is (its rows are checked
    against the head as they are opened)."""
    if not isinstance(head, dict) or head.get("format") != CACHE_FORMAT:
        return "is not a scan cache"
    count, crc = head.get("count"), head.get("crc32")
    if not isinstance(count, int) or not isinstance(crc, int) or count < 0:
        return "is damaged"
    stamp = head.get("fetched_at")
    try:
        fetched = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        fetched = None
    if fetched is None or fetched.tzinfo is None:
        return "has no readable time of fetching"
    if fetched > now + OVERLAP:
        return "is stamped in the future (has the clock moved?)"
    return ""


def xero_stamp(moment: datetime) -> str:
    """If-Modified-Since as Xero documents it: UTC, `YYYY-MM-DDTHH:MM:SS`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def wisenet_stamp(moment: datetime) -> str:
    """lastModifiedTimeStampFilter's date as Wisenet documents it: `YYYY-MM-DDTHH:MM:SS.fff`."""
    at = moment.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}"


FINDINGS_FORMAT = "diagnose-scan-findings/2"  # /1 had the rows' generation in the signature


def load_findings(folder: Path | None, signature: str, generation: str) -> list[Finding] | None:
    """The findings the last scan of this tenant kept, when it checked the same records
    (`generation`) with the same checks and alerts (`signature`); else None."""
    if folder is None:
        return None
    try:
        document = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
        if (
            document.get("format") != FINDINGS_FORMAT
            or document.get("signature") != signature
            or document.get("generation") != generation
        ):
            return None
        return [finding_from_json(item) for item in document["findings"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None  # nothing kept, or damaged: the checks run again


def save_findings(
    folder: Path | None, signature: str, generation: str, findings: list[Finding]
) -> None:
    if folder is None:
        return
    document = {
        "format": FINDINGS_FORMAT,
        "signature": signature,
        "generation": generation,
        "findings": [finding_json(f) for f in findings],
    }
    try:
        write_atomically(folder / "findings.json", json.dumps(document))
    except (OSError, TypeError, ValueError):  # not kept: the next scan runs the checks again
        forget_findings(folder)


UNITS_FILE = "units.jsonl"  # each subject's calls and findings (`scan_units`)


def forget_findings(folder: Path | None) -> None:
    """Drop what the last scan found (with what each subject's checks read): the next scan
    checks every subject."""
    if folder is not None:
        with contextlib.suppress(OSError):  # a folder that cannot hold them holds none
            (folder / "findings.json").unlink(missing_ok=True)
            (folder / UNITS_FILE).unlink(missing_ok=True)


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "check_id": f.check_id,
        "status": f.status.value,
        "title": f.title,
        "message": f.message,
        "target": [f.target.kind.value, f.target.key, f.target.label],
        "fix": f.fix,
        "evidence": f.evidence,
        "links": list(f.links),
        "cause": f.cause.value if f.cause else None,
        "explanation": f.explanation,
    }


def finding_from_json(item: dict[str, Any]) -> Finding:
    kind, key, label = item["target"]
    return Finding(
        check_id=item["check_id"],
        status=Status(item["status"]),
        title=item["title"],
        message=item["message"],
        target=Target(TargetKind(kind), key, label),
        fix=item["fix"],
        evidence=item["evidence"],
        links=tuple(item["links"]),
        cause=ProblemKind(item["cause"]) if item["cause"] else None,
        explanation=item["explanation"],
    )
