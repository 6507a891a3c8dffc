"""What a scan keeps of each subject it checked, so that the next one checks again only the
subjects a changed record touches.

A subject (a learner, or the invoices on one contact) is gathered through `sources.bulk`, which
notes each call it answers. The scan keeps, a line a subject, those calls and the subject's
findings (`units.jsonl`, in the scan's cache folder). The next scan knows which rows changed,
as they were and as they are (`Bulk.delta`). It asks each subject's calls again of those rows
alone: every answer is a choice of rows by what they hold (a LearnerId, a Contact Code, a
search term …) and where they stand, so a call whose answer none of them is part of, before or
after the change, answers as it did. A subject none of whose calls any changed row answers is
checked by the same pure checks on the same evidence: its findings are the ones kept. The
others are checked again.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CoroutineType
from typing import IO, Any

from diagnose.checking import Check
from diagnose.gather import at_once
from diagnose.model import Finding
from diagnose.paths import write_atomically
from diagnose.scan_cache import UNITS_FILE as FILE
from diagnose.scan_cache import finding_from_json, finding_json, forget_findings
from diagnose.scan_rows import read_at
from diagnose.sources.bulk import ASKS, Bulk, BulkWisenet, BulkXero

UNITS_FORMAT = "diagnose-scan-units/1"
# a subject's line, as compact as JSON goes (its values are plain: no cycle to look for)
_ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


@dataclass(slots=True)
class Kept:
    """A subject the last scan checked that no changed row touches: its findings, its line
    (copied into the next file as it is) and, for invoices checked together, where they are
    in Xero's list and where each finding is reported. A row keeps its place when it changes
    (and new ones come after all), so the places hold: the invoices on a contact are among its
    calls, and none of them changed."""

    findings: tuple[Finding, ...]  # mostly none: () is shared, 100,000 of them cost nothing
    line: tuple[int, int]  # (offset, length) in the last scan's file
    invoices: tuple[int, ...] = ()  # positions in Xero's list
    at: tuple[int, ...] = ()  # each finding's position


@dataclass
class Earlier:
    """The last scan's subjects that this one need not check again."""

    file: IO[bytes]  # the last scan's file, open: a kept line is copied from it
    # the connection checks' findings, every one (they seed the engine)
    tenant: list[Finding] = field(default_factory=list)
    learners: dict[int, Kept] = field(default_factory=dict)
    groups: list[Kept] = field(default_factory=list)

    def line(self, kept: Kept) -> bytes:
        offset, length = kept.line
        return read_at(self.file, length, offset)

    def close(self) -> None:
        self.file.close()


class Touched:
    """Whether a subject's calls are answered by any changed row: each asked again of the
    changed rows alone (as they were and as they are), through the same answering code."""

    def __init__(self, delta: dict[str, list[Any] | None]) -> None:
        changed = Bulk(
            learners=delta.get("learners") or [],
            wisenet_invoices=delta.get("wisenet_invoices") or [],
            contacts=delta.get("contacts") or [],
            invoices=delta.get("invoices") or [],
        )
        self.sides: dict[str, Any] = {"w": BulkWisenet(changed), "x": BulkXero(changed, None)}
        self.changed = frozenset(name for name, rows in delta.items() if rows)

    def by(self, asks: Sequence[Any]) -> bool:
        if not self.changed:
            return False
        for ask in asks:
            try:
                side, name, names, reads = ASKS[ask[0]]
                if reads.isdisjoint(self.changed):
                    continue  # made of rows none of which changed
                arguments = dict(zip(names, ask[1:], strict=True))
                answer = getattr(self.sides[side], name)(**arguments)
                if isinstance(answer, CoroutineType):
                    answer = at_once(answer)
            except Exception:  # a call that cannot be asked again (or is unknown): checked again
                return True
            if _some(answer):
                return True
        return False


def _some(answer: Any) -> bool:
    """Whether an answer holds any row (`{"Contacts": []}` holds none)."""
    if isinstance(answer, dict):
        return any(bool(v) for v in answer.values())
    return bool(answer)


def _finding_json(f: Finding) -> dict[str, Any]:
    """A finding as kept, less its check's own words (the catalogue has them)."""
    item = finding_json(f)
    del item["title"], item["explanation"]
    return item


def _finding(item: dict[str, Any], checks: Mapping[str, Check]) -> Finding:
    check = checks[item["check_id"]]
    return finding_from_json({**item, "title": check.title, "explanation": check.explanation})


def load(
    folder: Path | None,
    signature: str,
    generation: str,
    *,
    touched: Touched,
    invoices: int,
    checks: Mapping[str, Check],
) -> Earlier | None:
    """The last scan's subjects no changed row touches, when it checked the rows this scan's
    changes were made to (`generation`) with the same checks (`signature`, `checks` by id);
    else None. The tenant has `invoices` invoices now (a kept place past them is damage)."""
    if folder is None:
        return None
    try:
        file = (folder / FILE).open("rb")
    except OSError:
        return None
    try:
        earlier = _read(file, (signature, generation), touched, invoices, checks)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        earlier = None  # damaged: every subject is checked again
    if earlier is None:
        file.close()
    return earlier


def _read(
    file: IO[bytes],
    kept_for: tuple[str, str],
    touched: Touched,
    invoices: int,
    checks: Mapping[str, Check],
) -> Earlier | None:
    head = json.loads(file.readline())
    if head.get("format") != UNITS_FORMAT or (head["signature"], head["generation"]) != kept_for:
        return None
    earlier = Earlier(file=file)
    offset = file.tell()
    for line in file:
        if not line.endswith(b"\n"):
            break
        unit = json.loads(line)
        if "tenant" in unit:  # the last line
            earlier.tenant = [_finding(f, checks) for f in unit["tenant"]]
            return earlier
        at = (offset, len(line))
        offset += len(line)
        if touched.by(unit["asks"]):
            continue
        findings = tuple(_finding(f, checks) for f in unit["findings"])
        if "learner" in unit:
            earlier.learners[int(unit["learner"])] = Kept(findings, at)
            continue
        places = tuple(int(n) for n in unit["invoices"])
        where = tuple(int(n) for n in unit["at"])
        if len(where) != len(findings) or not all(0 <= n < invoices for n in places):
            raise ValueError("a kept subject's invoices are not where they were")
        earlier.groups.append(Kept(findings, at, places, where))
    raise ValueError("the kept subjects were cut short")


class Writer:
    """The subjects of this scan, a line each as they are checked, to a file beside the kept
    one: a head naming the checks and the rows, the subjects, then the connection checks'
    findings as the last line (a file without it was cut short). Written as the kept one when
    the scan is done (`done`); dropped if it is not."""

    def __init__(self, folder: Path | None, signature: str, generation: str) -> None:
        self.folder = folder
        self.file: IO[bytes] | None = None
        if folder is None:
            return
        head = {"format": UNITS_FORMAT, "signature": signature, "generation": generation}
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self.file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 - gone if killed
        except OSError:
            return
        self._put(json.dumps(head).encode() + b"\n")

    def learner(self, learner_id: int, asks: list[Any], findings: Sequence[Finding]) -> None:
        self._write({"learner": learner_id, "asks": asks}, findings)

    def group(
        self, invoices: Sequence[int], asks: list[Any], findings: Sequence[Finding], at: list[int]
    ) -> None:
        """Invoices checked together: their positions in Xero's list, and each finding's."""
        self._write({"invoices": list(invoices), "asks": asks, "at": at}, findings)

    def copy(self, line: bytes) -> None:
        self._put(line)

    def _write(self, unit: dict[str, Any], findings: Sequence[Finding]) -> None:
        if self.file is not None:
            unit["findings"] = [_finding_json(f) for f in findings]
            self._put(_ENCODE(unit).encode() + b"\n")

    def _put(self, line: bytes) -> None:
        """A line into the file (buffered); a disk that is full drops the file, and the next
        scan checks every subject."""
        if self.file is None:
            return
        try:
            self.file.write(line)
        except OSError:
            self.abandon()

    def done(self, tenant: Sequence[Finding]) -> None:
        """The last line, then the file written as the kept one."""
        self._put(json.dumps({"tenant": [_finding_json(f) for f in tenant]}).encode() + b"\n")
        if self.file is None or self.folder is None:
            return
        file = self.file
        try:
            file.seek(0)  # (what the buffer held is written first)
            pieces = iter(lambda: file.read(1 << 20), b"")
            write_atomically(self.folder / FILE, pieces, durable=False)  # a cache: no fsync
        except OSError:
            forget_findings(self.folder)
        self.abandon()

    def abandon(self) -> None:
        if self.file is not None:
            with contextlib.suppress(OSError):
                self.file.close()
        self.file = None
