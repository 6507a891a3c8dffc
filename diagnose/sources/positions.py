"""Where the scan's records are, by key, in a few bytes a record: the indexes `sources.bulk` reads
its answers through. They hold positions in the fetched rows, never the rows (those stay on disk,
`scan_rows.Rows`), and never the keys: a key's positions are candidates, which the reader checks
against the rows it reads anyway. At 10,000 learners, dictionaries of keys to lists of positions
took 28 MB (and grew with the tenant); these take 4.5 MB."""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from diagnose.errors import UsageError
from diagnose.latest import Latest

BITS = 24  # a position's bits: up to 16,777,216 rows a resource
LOW = (1 << BITS) - 1
HASHED = (1 << (63 - BITS)) - 1  # a key's hash, cut to what fits above a position
ASKED = 256


class Postings:
    """Which positions each key was added at: one sorted array of numbers, a key's hash above
    a position, 8 bytes a position whatever the key. Keys that share a hash share their
    positions (one in a million at 100,000 keys): a reader checks each row it is given."""

    def __init__(self) -> None:
        self._all = array("q")
        self._sorted = True

    def add(self, key: Hashable, n: int) -> None:
        if not 0 <= n <= LOW:
            raise UsageError(
                f"a scan reads at most {LOW + 1:,} records of a kind, and this tenant has more: "
                "diagnose its learners and invoices one at a time"
            )
        self._all.append((hash(key) & HASHED) << BITS | n)
        self._sorted = False

    def _sorted_all(self) -> array[int]:
        if not self._sorted:  # once, when the first key is looked up
            self._all = array("q", sorted(self._all))
            self._sorted = True
        return self._all

    def get(self, key: Hashable) -> list[int]:
        """The positions `key` may have been added at, in order."""
        every = self._sorted_all()
        low = (hash(key) & HASHED) << BITS
        high = low | LOW
        at = bisect.bisect_left(every, low)
        found: list[int] = []
        while at < len(every) and (value := every[at]) <= high:
            found.append(value & LOW)
            at += 1
        return found

    def count(self, key: Hashable) -> int:
        every = self._sorted_all()
        low = (hash(key) & HASHED) << BITS
        start = bisect.bisect_left(every, low)
        return bisect.bisect_right(every, low | LOW, start) - start


class Index:
    """Rows by a key their `key` function reads: the positions each key was added at
    (`Postings`), each row found there read and checked. The latest answers are remembered: a
    learner's records are asked for by several of its gathering's calls, one after another."""

    def __init__(self, rows: Sequence[Any], key: Callable[[Any], Hashable]) -> None:
        self.rows = rows
        self.key = key
        self.postings = Postings()
        self._asked: Latest[Hashable, list[tuple[int, Any]]] = Latest(ASKED)

    def add(self, key: Hashable, n: int) -> None:
        self.postings.add(key, n)
        self._asked.clear()

    def find(self, wanted: Hashable) -> list[tuple[int, Any]]:
        """The rows whose key is `wanted`, with their positions, in order."""
        found = self._asked.get(wanted)
        if found is None:
            at = self.postings.get(wanted)
            if not at:
                return []  # none: nothing read, nothing worth remembering
            found = [(n, row) for n in at if self.key(row := self.rows[n]) == wanted]
            self._asked[wanted] = found
        return found


_RUN = re.compile(r"\w+")


class TextSearch:
    """Which records have a field containing a text, ignoring case: Xero's `searchTerm`, without
    reading every record for every search. Each field is cut into runs of word characters; a
    text's inner runs must be whole runs of the field, its first run the end of one and its last
    the start of one. Two runs side by side in the text are side by side in the field, so the
    index of neighbouring runs narrows a name or an email to a few records however common each
    word is (a surname shared by thousands); a single run narrows by itself. Each record left is
    then read and checked exactly."""

    WIDEST = 64  # neighbouring-run keys a text may stand for before single runs are used instead
    FEW = 64  # records read in full for every search: narrowing them costs more than reading

    def __init__(self, records: Sequence[Any], fields: Sequence[str]) -> None:
        self.records = records  # read only for what the indexes leave
        self.fields = fields
        self.postings = Postings()  # each run's records
        self.pairs = Postings()  # each two runs side by side's records
        known: set[str] = set()
        # few records: each read in full for every search, with their texts
        self.few: list[tuple[Any, list[str]]] | None = [] if len(records) <= self.FEW else None
        for n, record in enumerate(records):
            runs: set[str] = set()
            neighbours: set[tuple[str, str]] = set()
            texts = _texts(record, fields)
            if self.few is not None:
                self.few.append((record, texts))
            for text in texts:
                found = _RUN.findall(text)
                runs.update(found)
                neighbours.update(pairwise(found))
            for run in runs:
                self.postings.add(run, n)
            for pair in neighbours:
                self.pairs.add(pair, n)
            known |= runs
        # every text of the few, in one: a text none of them holds is not in this either
        self.few_texts = "\n".join(t for _, texts in self.few or () for t in texts)
        self.forward = sorted(known)
        self.backward = sorted(run[::-1] for run in known)

    def find(self, text: str) -> list[Mapping[str, Any]]:
        folded = text.casefold()
        if self.few is not None:  # the records a re-scan found changed, say
            if folded not in self.few_texts:
                return []
            return [r for r, texts in self.few if any(folded in t for t in texts)]
        rows: Iterable[int] = range(len(self.records))
        if folded:
            found = list(_RUN.finditer(folded))
            options = [self._runs(m.group(), m.start() > 0, m.end() < len(folded)) for m in found]
            narrowed = self._by_neighbours(options, found)
            if narrowed is None and options:
                smallest = min(options, key=self._size)
                narrowed = {n for name in smallest for n in self.postings.get(name)}
            if narrowed is not None:
                rows = sorted(narrowed)
        return [
            record
            for n in rows
            if isinstance(record := self.records[n], dict)
            and any(folded in t for t in _texts(record, self.fields))
        ]

    def _by_neighbours(
        self, options: list[list[str]], found: list[re.Match[str]]
    ) -> set[int] | None:
        """The records holding the text's first two runs side by side; None when the text has
        one run, or its first runs could stand for too many neighbouring runs."""
        if len(found) < 2:
            return None
        # the first run is the end of a field's run (or all of one), the second the start of
        # the next (or all of one): `options` holds each's candidates
        firsts, seconds = options[0], options[1]
        if len(firsts) * len(seconds) > self.WIDEST:
            return None
        return {n for a in firsts for b in seconds for n in self.pairs.get((a, b))}

    def _size(self, names: list[str]) -> int:
        return sum(self.postings.count(name) for name in names)

    def _runs(self, run: str, starts: bool, ends: bool) -> list[str]:
        """The fields' runs that are `run` (`starts` and `ends`), begin with it, end with it, or
        hold it."""
        if starts and ends:
            at = bisect.bisect_left(self.forward, run)
            return [run] if at < len(self.forward) and self.forward[at] == run else []
        if starts:
            return _prefixed(self.forward, run)
        if ends:
            return [r[::-1] for r in _prefixed(self.backward, run[::-1])]
        return [r for r in self.forward if run in r]


def _prefixed(runs: list[str], prefix: str) -> list[str]:
    start = bisect.bisect_left(runs, prefix)
    end = start
    while end < len(runs) and runs[end].startswith(prefix):
        end += 1
    return runs[start:end]


def _texts(record: Any, fields: Sequence[str]) -> list[str]:
    if not isinstance(record, dict):  # a JSON object (a Mapping check costs more, per record)
        return []
    return [str(record.get(name) or "").casefold() for name in fields]
