"""What a scan keeps between runs: the pages it fetched, a resource at a time, with when each was
fetched, in the user cache folder (one folder a tenant). Reading and forgetting them needs no
network: a reset or a write through diagnose drops what it made stale without loading a client."""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from diagnose import parse
from diagnose.model import Finding, ProblemKind, Status, Target, TargetKind
from diagnose.paths import cache_dir, write_atomically


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
    One file a resource in `folder`, so saving what a round brought rewrites only that."""

    folder: Path | None
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was set aside, for the person to read
    changed: set[str] = field(default_factory=set)  # resources whose rows differ from the kept

    @classmethod
    def load(cls, folder: Path | None) -> Cache:
        """The cached pages; a resource whose file is damaged, or stamped in the future (a
        clock that moved), is set aside with a note and fetched in full."""
        cache = cls(folder)
        if folder is None:
            return cache
        now = datetime.now(UTC)
        for resource in RESOURCES:
            path = folder / f"{resource}.json"
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (FileNotFoundError, NotADirectoryError):
                continue  # nothing kept (yet): fetched in full
            except (OSError, ValueError, RecursionError):
                cache.notes.append(
                    f"the kept copy of the {NAMES[resource]} could not be read: fetched again"
                )
                continue
            why = _damage(document, now)
            if why:
                cache.notes.append(f"the kept copy of the {NAMES[resource]} {why}: fetched again")
                continue
            cache.resources[resource] = document
        return cache

    def forget(self, *resources: str) -> None:
        """Drop what a write or a reset made stale: the next scan fetches it in full."""
        for resource in resources or RESOURCES:
            self.resources.pop(resource, None)
            if self.folder is not None:
                with contextlib.suppress(OSError):  # a folder that cannot hold it holds none
                    (self.folder / f"{resource}.json").unlink(missing_ok=True)
        forget_findings(self.folder)

    def since(self, resource: str) -> datetime | None:
        entry = self.resources.get(resource)
        return datetime.fromisoformat(entry["fetched_at"]) if entry else None

    def merge(self, resource: str, rows: list[Any], started: datetime) -> list[Any]:
        """The cached rows updated with those just fetched (kept by key, in first-seen order)."""
        entry = self.resources.get(resource)
        if entry is not None and not rows:  # nothing new since: the kept rows as they are
            return list(entry["rows"])
        merged: dict[str, Any] = {}
        key = KEYS[resource]
        for row in entry["rows"] if entry else []:
            merged[key(row)] = row
        if entry is None:
            self.changed.add(resource)  # fetched in full: nothing to compare it with
        for row in rows:
            name = key(row)
            if merged.get(name) != row:  # new, or different (a row read again in the overlap
                self.changed.add(resource)  # of two scans is no change)
            merged[name] = row
        same = entry is not None and resource not in self.changed
        self.resources[resource] = {
            "format": CACHE_FORMAT,
            "fetched_at": (started - OVERLAP).isoformat(),
            # the rows' own version: kept while they do not change, new when they do
            "generation": entry.get("generation", "") if same and entry else uuid.uuid4().hex,
            "rows": list(merged.values()),
        }
        return list(merged.values())

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
            write_atomically(folder / f"{resource}.json", _pieces(self.resources[resource]))


CACHE_FORMAT = "diagnose-scan-cache/1"
PIECE = 1000  # rows encoded at a time


def _pieces(document: dict[str, Any]) -> Iterator[bytes]:
    """A kept resource as JSON, a thousand rows at a time: the whole text is never in memory
    (it would be the largest thing a scan holds, 15 MB of Xero invoices at 10,000 learners)."""
    rows = document["rows"]
    head = json.dumps({k: v for k, v in document.items() if k != "rows"})
    yield f'{head[:-1]}, "rows": ['.encode()
    for start in range(0, len(rows), PIECE):
        yield (", " if start else "").encode() + json.dumps(rows[start : start + PIECE])[
            1:-1
        ].encode()
    yield b"]}"


def _damage(document: Any, now: datetime) -> str:
    """What is wrong with a cached resource's file; "" when nothing is."""
    if not isinstance(document, dict) or document.get("format") != CACHE_FORMAT:
        return "is not a scan cache"
    rows = document.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return "holds rows that are not records"
    stamp = document.get("fetched_at")
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


FINDINGS_FORMAT = "diagnose-scan-findings/1"


def load_findings(folder: Path | None, signature: str) -> list[Finding] | None:
    """The findings the last scan of this tenant kept, when it checked the same records with
    the same checks and alerts (`signature`); else None."""
    if folder is None:
        return None
    try:
        document = json.loads((folder / "findings.json").read_text(encoding="utf-8"))
        if document.get("format") != FINDINGS_FORMAT or document.get("signature") != signature:
            return None
        return [_finding(item) for item in document["findings"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None  # nothing kept, or damaged: the checks run again


def save_findings(folder: Path | None, signature: str, findings: list[Finding]) -> None:
    if folder is None:
        return
    document = {
        "format": FINDINGS_FORMAT,
        "signature": signature,
        "findings": [_finding_json(f) for f in findings],
    }
    try:
        write_atomically(folder / "findings.json", json.dumps(document))
    except (OSError, TypeError, ValueError):  # not kept: the next scan runs the checks again
        forget_findings(folder)


def forget_findings(folder: Path | None) -> None:
    if folder is not None:
        with contextlib.suppress(OSError):  # a folder that cannot hold them holds none
            (folder / "findings.json").unlink(missing_ok=True)


def _finding_json(f: Finding) -> dict[str, Any]:
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


def _finding(item: dict[str, Any]) -> Finding:
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
