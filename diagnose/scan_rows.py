"""A scan's records on disk, read back one at a time: memory stays flat in the tenant's size.

A resource's rows are written one JSON document a line, to a file nobody else sees (or the scan
cache's own copy, when nothing changed), and `Rows` reads them back by position. A whole tenant
decoded at once would be most of a scan's memory — 140 MB at 10,000 learners, ten times that at
100,000 — while the checks only ever need a learner's records at a time.
"""

from __future__ import annotations

import json
import os
import tempfile
import weakref
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, overload

from diagnose.errors import UsageError
from diagnose.latest import Latest

BLOCK = 1000  # rows decoded in one go when read in order
RECENT = 256  # rows read by position kept decoded: a learner's records are asked for again soon
CHUNK = 1 << 20  # bytes read at a time when a kept file is checked


class Rows(Sequence[Any]):
    """Rows kept in a file, one JSON document a line. Row `n` is the bytes `spans` names
    (start, length), decoded when it is read (the latest `RECENT` stay decoded), in blocks when
    read in order.

    `Rows.writer()` makes a new one in a file of its own, deleted when it is closed (a scan that
    is killed leaves nothing behind); `Rows.kept()` reads a file written before."""

    def __init__(
        self, file: IO[bytes], spans: array[int] | None, count: int, describe: str = "rows"
    ) -> None:
        self._file = file
        self._spans = spans  # None until a kept file's lines are first needed
        self._count = count
        self._describe = describe
        self._closed = weakref.finalize(self, file.close)
        self._recent: Latest[int, Any] = Latest(RECENT)  # a row read again: the same object

    @classmethod
    def writer(cls, folder: Path | None = None, describe: str = "rows") -> RowsWriter:
        return RowsWriter(folder, describe)

    @classmethod
    def kept(cls, path: Path, count: int, crc32: int, describe: str) -> Rows:
        """The rows a scan cache holds at `path`, after checking their checksum (ValueError when
        it differs, or they are not `count` lines). The file stays open: a scan that replaces it
        meanwhile does not change what this one reads."""
        file = path.open("rb")
        try:
            crc, lines, size = 0, 0, 0
            while chunk := file.read(CHUNK):
                crc = zlib.crc32(chunk, crc)
                lines += chunk.count(b"\n")
                size += len(chunk)
            if crc != crc32 or lines != count or (size and not _ends_a_line(file, size)):
                raise ValueError(f"{path} is not the rows its head names")
        except BaseException:
            file.close()
            raise
        return cls(file, None, count, describe)

    def close(self) -> None:
        self._closed()

    def __repr__(self) -> str:
        return f"Rows({self._count} {self._describe})"

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[n] for n in range(*index.indices(self._count))]
        row = self._recent.get(index, _NONE)
        if row is not _NONE:
            return row
        at = index + self._count if index < 0 else index
        if not 0 <= at < self._count:
            raise IndexError(f"row {index} of {self._count}")
        spans = self._lines()
        row = self._decode(read_at(self._file, spans[2 * at + 1], spans[2 * at]))
        self._recent[at] = row
        return row

    def __iter__(self) -> Iterator[Any]:
        for start in range(0, self._count, BLOCK):
            yield from self.block(start, min(start + BLOCK, self._count))

    def block(self, start: int, end: int) -> list[Any]:
        """Rows `start` to `end`, decoded together (one read, one `json.loads`, when they lie
        side by side in the file, as they do unless a row was replaced)."""
        text = self._side_by_side(start, end)
        if text is None:
            return [self[n] for n in range(start, end)]  # not side by side: one at a time
        rows: list[Any] = self._decode(b"[" + text[:-1].replace(b"\n", b",") + b"]", end - start)
        return rows

    def lines(self, start: int, end: int) -> list[bytes]:
        """Rows `start` to `end` as their lines, undecoded."""
        text = self._side_by_side(start, end)
        if text is None:
            spans = self._lines()
            return [read_at(self._file, spans[2 * n + 1], spans[2 * n]) for n in range(start, end)]
        return [line + b"\n" for line in text[:-1].split(b"\n")] if text else []

    def _side_by_side(self, start: int, end: int) -> bytes | None:
        """The lines of rows `start` to `end` in one read, when they follow one another in the
        file (b"" for none); None when a row was replaced elsewhere."""
        if start >= end:
            return b""
        spans = self._lines()
        first, last = spans[2 * start], spans[2 * end - 2] + spans[2 * end - 1]
        if last - first != sum(spans[2 * n + 1] for n in range(start, end)):
            return None
        return read_at(self._file, last - first, first)

    def raw(self) -> Iterator[bytes]:
        """Every row's line, in order, as written (what the scan cache keeps)."""
        for start in range(0, self._count, BLOCK):
            yield b"".join(self.lines(start, min(start + BLOCK, self._count)))

    def _lines(self) -> array[int]:
        if self._spans is None:  # a kept file: where each line starts, found once
            spans, at, size = array("q"), 0, CHUNK
            while chunk := read_at(self._file, size, at):
                cut = chunk.rfind(b"\n") + 1
                if not cut:  # a row longer than what was read (checked whole when opened)
                    if len(chunk) < size:
                        raise ValueError(f"the kept {self._describe} end in the middle of a row")
                    size *= 2
                    continue
                size, begin = CHUNK, 0
                while begin < cut:
                    end = chunk.index(b"\n", begin) + 1
                    spans.extend((at + begin, end - begin))
                    begin = end
                at += cut
            self._spans = spans
        return self._spans

    def _decode(self, text: bytes, count: int | None = None) -> Any:
        try:
            value = _DECODER.decode(text.decode())  # what json.loads does, less its guessing
        except ValueError:
            raise ValueError(f"the kept {self._describe} are not JSON") from None
        if count is not None and (not isinstance(value, list) or len(value) != count):
            raise ValueError(f"the kept {self._describe} are not one row a line")
        return value


_NONE: Any = object()
_DECODER = json.JSONDecoder()


def read_at(file: IO[bytes], length: int, offset: int) -> bytes:
    """`length` bytes of `file` from `offset`: one positioned read where the system has it
    (POSIX), else a seek and a read (Windows; a scan reads its rows from one thread)."""
    pread = getattr(os, "pread", None)
    if pread is not None:
        return pread(file.fileno(), length, offset)  # type: ignore[no-any-return]
    file.seek(offset)
    return file.read(length)


def _ends_a_line(file: IO[bytes], size: int) -> bool:
    return read_at(file, 1, size - 1) == b"\n"


def _scratch(folder: Path | None) -> tuple[IO[bytes], str]:
    """A file nobody else sees, gone when closed: in the scan's cache folder when it can hold
    one (the system's temporary folder may be memory), else in the temporary folder."""
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            return tempfile.TemporaryFile(dir=folder), str(folder)
        except OSError:
            pass  # a cache folder that cannot hold it: the scan's cache says so when it saves
    return tempfile.TemporaryFile(), tempfile.gettempdir()


class RowsWriter:
    """Rows written as they come, kept by key: a row whose key was written before replaces it
    where it stood (a record that moved while the pages were read is kept once, as last read)."""

    def __init__(self, folder: Path | None, describe: str) -> None:
        self._file, self._folder = _scratch(folder)
        self._closed = weakref.finalize(self, self._file.close)  # a writer left unfinished
        self._describe = describe
        self._spans: array[int] = array("q")
        self._at = 0
        self._where: dict[str, int] = {}

    def add(self, rows: Iterable[Any], key: Callable[[Any], str] | None = None) -> None:
        lines: list[bytes] = []
        for row in rows:
            line = json.dumps(row).encode() + b"\n"
            name = key(row) if key is not None else None
            n = self._where.get(name) if name is not None else None
            if n is None:
                if name is not None:
                    self._where[name] = len(self._spans) // 2
                self._spans.extend((self._at, len(line)))
            else:
                self._spans[2 * n], self._spans[2 * n + 1] = self._at, len(line)
            self._at += len(line)
            lines.append(line)
        self._write(b"".join(lines))

    def add_line(self, line: bytes) -> None:
        """A row already written as a line (read from other `Rows`), with no key."""
        self._spans.extend((self._at, len(line)))
        self._at += len(line)
        self._write(line)

    def _write(self, data: bytes | None) -> None:
        """Write (or, given None, flush); a disk that is full or failing is one line."""
        try:
            self._file.write(data) if data is not None else self._file.flush()
        except OSError as exc:
            raise UsageError(
                f"cannot keep the fetched {self._describe} in {self._folder} "
                f"({exc.strerror or exc}): free some space there, or set DIAGNOSE_CACHE_DIR "
                "to a folder with room"
            ) from None

    def __len__(self) -> int:
        return len(self._spans) // 2

    def done(self) -> Rows:
        self._write(None)
        self._closed.detach()  # its Rows closes it
        self._where.clear()
        return Rows(self._file, self._spans, len(self._spans) // 2, self._describe)
