"""A scan's records on disk (`Rows`): what goes in comes back, by position and in order, a
record read again while the pages came is kept once, and a kept file is trusted only whole."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnose.latest import Latest
from diagnose.scan_rows import BLOCK, RECENT, Rows

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(json_values, max_size=30), st.integers(1, 7))
def test_rows_come_back_as_written_by_position_and_in_order(rows: list[Any], pieces: int) -> None:
    into = Rows.writer()
    for start in range(0, len(rows), pieces):
        into.add(rows[start : start + pieces])
    kept = into.done()
    try:
        assert len(kept) == len(rows)
        assert list(kept) == rows
        assert [kept[n] for n in range(len(rows))] == rows
        assert [kept[-n] for n in range(1, len(rows) + 1)] == rows[::-1]
        assert kept[1:-1:2] == rows[1:-1:2]
        assert b"".join(kept.raw()) == b"".join(json.dumps(r).encode() + b"\n" for r in rows)
        with pytest.raises(IndexError):
            kept[len(rows)]
    finally:
        kept.close()


def test_a_record_read_twice_while_the_pages_came_is_kept_once_as_last_read() -> None:
    into = Rows.writer()
    into.add([{"ID": "a", "v": 1}, {"ID": "b", "v": 1}], key=lambda r: r["ID"])
    into.add([{"ID": "c", "v": 1}, {"ID": "a", "v": 2}], key=lambda r: r["ID"])
    kept = into.done()
    assert list(kept) == [{"ID": "a", "v": 2}, {"ID": "b", "v": 1}, {"ID": "c", "v": 1}]
    assert kept.block(0, 3) == list(kept)  # rows no longer side by side are read one by one
    assert b"".join(kept.raw()).count(b"\n") == 3
    kept.close()


def test_thousands_of_rows_read_in_blocks_and_out_of_order() -> None:
    rows = [{"n": n, "name": f"learner {n}"} for n in range(2 * BLOCK + 17)]
    into = Rows.writer()
    into.add(rows)
    kept = into.done()
    assert list(kept) == rows
    assert [kept[n]["n"] for n in (2016, 0, 1500, 2016)] == [2016, 0, 1500, 2016]
    kept.close()


def kept_file(tmp_path: Path, rows: list[Any]) -> tuple[Path, int, int]:
    text = b"".join(json.dumps(r).encode() + b"\n" for r in rows)
    path = tmp_path / "learners.rows.jsonl"
    path.write_bytes(text)
    return path, len(rows), zlib.crc32(text)


def test_a_kept_file_is_read_only_if_it_is_what_its_head_names(tmp_path: Path) -> None:
    rows = [{"LearnerId": n} for n in range(5)]
    path, count, crc = kept_file(tmp_path, rows)
    kept = Rows.kept(path, count, crc, "Wisenet learners")
    path.unlink()  # replaced by another scan meanwhile: this one reads what it checked
    assert list(kept) == rows
    assert kept[3] == {"LearnerId": 3}
    kept.close()
    path, count, crc = kept_file(tmp_path, rows)
    for wrong in ((count + 1, crc), (count, crc ^ 1)):
        with pytest.raises(ValueError, match="is not the rows its head names"):
            Rows.kept(path, *wrong, "Wisenet learners")
    path.write_bytes(path.read_bytes()[:-1])  # the last line cut short of its end
    with pytest.raises(ValueError, match="is not the rows its head names"):
        Rows.kept(path, count - 1, zlib.crc32(path.read_bytes()), "Wisenet learners")


def test_a_kept_file_that_is_not_one_row_a_line_says_so_when_read(tmp_path: Path) -> None:
    text = b'{"a": 1}\n{"b": 2}, {"c": 3}\nnot json\n'
    path = tmp_path / "rows.jsonl"
    path.write_bytes(text)
    kept = Rows.kept(path, 3, zlib.crc32(text), "Xero contacts")
    assert kept[0] == {"a": 1}
    with pytest.raises(ValueError, match="the kept Xero contacts are not JSON"):
        kept[2]
    with pytest.raises(ValueError, match="the kept Xero contacts are not"):
        list(kept)
    kept.close()


def test_rows_are_written_in_the_cache_folder_and_leave_nothing_there(tmp_path: Path) -> None:
    into = Rows.writer(tmp_path / "cache", "Xero invoices")
    into.add([{"InvoiceID": "x"}])
    kept = into.done()
    assert kept[0] == {"InvoiceID": "x"}
    assert list((tmp_path / "cache").iterdir()) == []  # nobody else sees them, even killed
    kept.close()
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder should be")
    into = Rows.writer(blocked / "cache", "Xero invoices")  # elsewhere, then
    into.add([{"InvoiceID": "y"}])
    assert into.done()[0] == {"InvoiceID": "y"}


def test_a_kept_row_longer_than_a_read_is_read_whole(tmp_path: Path) -> None:
    rows = [{"LineItems": ["x" * 1000] * 3000}, {"LearnerId": 2}]  # 3 MB in one row
    path, count, crc = kept_file(tmp_path, rows)
    kept = Rows.kept(path, count, crc, "Xero invoices")
    assert kept[1] == {"LearnerId": 2}
    assert kept[0] == rows[0]
    kept.close()


def test_rows_are_read_where_the_system_has_no_positioned_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.delattr(os, "pread")  # as on Windows
    rows = [{"n": n} for n in range(2 * BLOCK + 3)]
    into = Rows.writer(tmp_path)
    into.add(rows)
    written = into.done()
    assert list(written) == rows
    assert [written[n] for n in (2002, 0, 1001)] == [rows[2002], rows[0], rows[1001]]
    path, count, crc = kept_file(tmp_path, rows)
    kept = Rows.kept(path, count, crc, "Wisenet learners")
    assert list(kept) == rows
    assert kept[5] == rows[5]
    kept.close()
    written.close()


def test_a_scan_keeps_only_its_latest_rows_decoded(tmp_path: Path) -> None:
    """However many rows are read back, only the latest `RECENT` stay decoded; one read again
    among them is the same object, and setting a kept key again drops nothing."""
    rows = [{"n": n} for n in range(3 * RECENT)]
    into = Rows.writer(tmp_path)
    into.add(rows)
    written = into.done()
    first = written[0]
    assert written[0] is first
    for n in range(3 * RECENT):
        assert written[n] == rows[n]
    assert written[0] is not first  # read longest ago: decoded again
    latest: Latest[str, int] = Latest(2)
    latest["a"], latest["b"], latest["a"] = 1, 2, 3
    assert dict(latest) == {"a": 3, "b": 2}
    latest["c"] = 4
    assert dict(latest) == {"a": 3, "c": 4}
