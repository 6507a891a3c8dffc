"""Hostile files and stale copies: nothing is replaced that is not a file, nothing deep or
non-finite reaches an internal error, and a scan never trusts a copy a write made stale."""

from __future__ import annotations

import json
import os
import stat
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FIGURES, Run
from harness import FAULTS_ENV, command

SEEN = {"commands": 0, "refused (exit 2)": 0, "exit 70": 0, "tracebacks": 0}


@pytest.fixture
def cli(cli: Callable[..., Run]) -> Callable[..., Run]:
    """The CLI, counting what the hostile cases got for the reliability figures."""

    def run(*args: str) -> Run:
        done = cli(*args)
        SEEN["commands"] += 1
        SEEN["refused (exit 2)"] += done.code == 2
        SEEN["exit 70"] += done.code == 70
        SEEN["tracebacks"] += "Traceback" in done.out + done.err
        FIGURES["hostile files and signals"] = ", ".join(f"{k}: {v}" for k, v in SEEN.items())
        assert done.code != 70, done.err
        assert "Traceback" not in done.err
        return done

    return run


@pytest.mark.parametrize(
    "args",
    [
        ("learner", "123", "--report", "/dev/null"),
        ("learner", "123", "--save", "/dev/null"),
        ("scan", "--csv", "/dev/null"),
        ("scan", "--report", "/dev/null"),
    ],
)
def test_a_device_given_as_output_is_refused_and_left_a_device(
    cli: Callable[..., Run], args: tuple[str, ...]
) -> None:
    run = cli(*args)
    assert run.code == 2
    assert "/dev/null: it is not a regular file (nothing was replaced)" in run.err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_symlink_is_followed_to_its_file_and_stays_a_symlink(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    real = tmp_path / "real.docx"
    link = tmp_path / "link.docx"
    link.symlink_to(real)
    assert cli("learner", "123", "--report", str(link)).code == 1
    assert link.is_symlink()
    assert real.is_file()
    assert real.stat().st_size > 10_000
    assert not list(tmp_path.glob(".*partial"))  # nothing left half-written


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_deep_nesting_in_any_file_is_one_line_and_exit_2(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = tmp_path / "tenant.json"
    tenant.write_text('{"format": "diagnose-tenant/1", "x": ' + nested(100_000) + "}")
    run = cli("learner", "123", "--sandbox", str(tenant))
    assert (run.code, run.err.count("\n")) == (2, 1), run.err
    assert "nested too deeply" in run.err
    snapshot = tmp_path / "snap.json"
    snapshot.write_text(nested(100_000))
    run = cli("replay", str(snapshot))
    assert (run.code, "nested too deeply" in run.err) == (2, True), run.err
    config = tmp_path / "config.toml"
    config.write_text("x = " + nested(100_000) + "\n")
    monkeypatch.setenv("DIAGNOSE_CONFIG", str(config))
    run = cli("learner", "123", "--profile", "p")
    assert run.code == 2, run.err
    assert "cannot be read" in run.err


def test_a_pipe_as_tenant_file_is_refused_not_waited_on(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    fifo = tmp_path / "tenant.json"
    os.mkfifo(fifo)
    run = cli("learner", "123", "--sandbox", str(fifo))
    assert run.code == 2
    assert "is not a regular file" in run.err


def test_json_output_is_strict_json_even_when_a_tenant_holds_nan(
    cli: Callable[..., Run], demo_tenant: dict[str, Any], tmp_path: Path
) -> None:
    text = json.dumps(demo_tenant).replace('"Total": 1850.0', '"Total": NaN', 1)
    assert "NaN" in text
    tenant = tmp_path / "nan.json"
    tenant.write_text(text)
    run = cli("invoice", "INV-0042", "--sandbox", str(tenant), "--json")
    assert run.code == 2  # not a JSON number: the file is refused, as a bad answer would be
    json.loads(run.out, parse_constant=lambda word: pytest.fail(f"{word} in --json output"))


def test_a_damaged_or_future_scan_cache_is_set_aside_with_a_note(
    cli: Callable[..., Run], data_dir: Path
) -> None:
    first = cli("scan", "--json")
    assert first.code == 1
    cached = list((data_dir / "cache" / "scan").glob("*/learners.json"))
    assert len(cached) == 1
    head, rows = cached[0], cached[0].with_name("learners.rows.jsonl")
    kept = json.loads(head.read_text())
    written = rows.read_bytes()
    damages = [
        ("[1, 2", written),  # a head cut short
        (json.dumps({**kept, "fetched_at": 7}), written),
        (json.dumps(kept), written[:-40]),  # rows cut short: the checksum differs
        # a row more than the head counts, even with the checksum to match
        (json.dumps({**kept, "crc32": zlib.crc32(written + b"{}\n")}), written + b"{}\n"),
        (json.dumps(kept), written.replace(b'"LearnerId": 1', b'"LearnerId": 9')),
        (json.dumps({**kept, "fetched_at": "2999-01-01T00:00:00+00:00"}), written),
    ]
    for damaged_head, damaged_rows in damages:
        head.write_text(damaged_head)
        rows.write_bytes(damaged_rows)
        run = cli("scan", "--json")
        assert run.code == 1, run.err
        assert "note: the kept copy of the Wisenet learners" in run.err
        assert run.json()["summary"] == first.json()["summary"]  # the same verdicts
    # copies earlier diagnoses kept (the rows inside the head; all rows in one array beside
    # it) are fetched again without a word, and the older rows file goes
    for earlier in (
        {"format": "diagnose-scan-cache/1", "rows": []},
        {**kept, "format": "diagnose-scan-cache/2"},
    ):
        head.write_text(json.dumps(earlier))
        rows.with_suffix(".json").write_text("[]")
        run = cli("scan", "--json")
        assert run.code == 1
        assert "note:" not in run.err
        assert run.json()["summary"] == first.json()["summary"]
        assert not rows.with_suffix(".json").exists()


def test_a_scan_never_trusts_what_a_write_or_a_reset_made_stale(cli: Callable[..., Run]) -> None:
    def verdict_103(run: Run) -> set[str]:
        return {
            f["id"]
            for f in run.json()["findings"]
            if f["subject"]["key"] == "103" and f["status"] == "fail"
        }

    assert "learner.sync-enabled" in verdict_103(cli("scan", "--json"))
    assert cli("resync", "learner", "103", "--yes").code == 0
    assert "learner.sync-enabled" not in verdict_103(cli("scan", "--json"))
    assert cli("sandbox", "reset").code == 0
    after = verdict_103(cli("scan", "--json"))
    single = cli("learner", "103", "--json").json()
    assert after == {f["id"] for f in single["findings"] if f["status"] == "fail"}
    assert "learner.sync-enabled" in after


@pytest.mark.parametrize(("name", "code"), [("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_signal_mid_resync_leaves_the_learner_ticked_and_audited(
    cli: Callable[..., Run], tmp_path: Path, data_dir: Path, name: str, code: int
) -> None:
    import signal
    import subprocess
    import time

    mark = tmp_path / "hanging"
    faults = [
        {"method": "PATCH", "path": "/v1/learnersAU/101", "nth": 2, "hang": 60, "mark": str(mark)}
    ]  # the re-tick hangs: 101 is unticked at that moment
    env = {**os.environ, FAULTS_ENV: json.dumps(faults)}
    process = subprocess.Popen(
        command("resync", "learner", "101", "--yes"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not mark.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mark.exists(), process.stderr
    started = time.monotonic()
    process.send_signal(getattr(signal, name))
    _, err = process.communicate(timeout=30)
    assert time.monotonic() - started < 10  # promptly, not after the hang
    assert process.returncode == code, err
    assert f"stopped by {name}" in err
    after = cli("learner", "101", "--json").json()
    sync = next(f for f in after["findings"] if f["id"] == "learner.sync-enabled")
    assert sync["status"] == "pass"  # ticked again before the process ended
    assert not list((data_dir / "journal").glob("*.json"))  # the journal entry closed
    lines = (data_dir / "audit.jsonl").read_text().splitlines()
    assert any(json.loads(line)["subject"] == "learner 101" for line in lines)


@pytest.mark.parametrize(
    "entry",
    [
        {"learner_id": "103/../../invoices"},
        {"learner_id": True},
        {"learner_id": 10**40},
        {"was_ticked": "yes"},
        {"state": 7},
        {"surprise": 1},
        None,
    ],
    ids=["path", "bool", "huge", "flag", "state", "unknown", "not-an-entry"],
)
def test_a_damaged_journal_entry_is_set_aside_with_a_note(
    cli: Callable[..., Run], data_dir: Path, entry: dict[str, Any] | None
) -> None:
    folder = data_dir / "journal"
    folder.mkdir(parents=True)
    good = {"action": "resync", "learner_id": 103, "sandbox": "demo", "was_ticked": False}
    good.update(id="e1", profile="sandbox")
    path = folder / "e1.json"
    path.write_text(json.dumps(None if entry is None else {**good, **entry}))
    run = cli("learner", "101")
    assert run.code == 0, run.err
    assert "a damaged journal entry was set aside" in run.err
    assert not path.exists()
    assert (folder / "e1.broken").exists()
    assert "a damaged journal entry" not in cli("learner", "101").err  # said once


def test_small_things_answer_as_they_should(cli: Callable[..., Run]) -> None:
    dry = cli("resync", "learner", "99999", "--dry-run")
    assert dry.code == 2  # as the real run would
    assert "no Wisenet learner has LearnerId 99999" in dry.err
    arabic = cli("learner", "١٠١")  # Arabic-Indic digits are not the LearnerId 101
    assert arabic.code == 2
    assert "RefInternal" in arabic.err
    long_name = cli("learner", "101", "--profile", "p" * 100_000)
    assert long_name.code == 2
    assert len(long_name.err) < 300  # not echoed whole


def test_a_data_folder_that_is_a_file_is_one_line_for_every_command(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file where the data folder should be")
    monkeypatch.setenv("DIAGNOSE_DATA_DIR", str(not_a_folder))
    for args in (
        ("resync", "learner", "103", "--yes"),
        ("fix", "contact-code", "learner", "108"),
        ("learner", "101"),
        ("scan",),
        ("audit",),
    ):
        run = cli(*args)
        assert run.code == 2, (args, run.err)
        assert run.err.count("\n") == 1
        assert f"the data folder {not_a_folder} is a file, not a folder" in run.err
    assert not_a_folder.read_text() == "a file where the data folder should be"


def test_a_write_is_refused_before_it_starts_when_its_audit_line_cannot_be_kept(
    cli: Callable[..., Run], data_dir: Path
) -> None:
    (data_dir / "audit.jsonl").mkdir(parents=True)  # the log cannot be opened for appending
    for args in (("resync", "learner", "103", "--yes"), ("fix", "contact-code", "learner", "108")):
        run = cli(*args)
        assert run.code == 2, (args, run.err)
        assert run.err.count("\n") == 1
        assert f"cannot keep the audit log at {data_dir / 'audit.jsonl'}" in run.err
        assert "nothing was written" in run.err
    assert not (data_dir / "sandbox").exists()  # the sandbox was never changed


@pytest.mark.parametrize(
    "args",
    [
        ("learner", "123", "--report", "{out}/r.docx"),
        ("learner", "123", "--save", "{out}/s.json"),
        ("scan", "--csv", "{out}/s.csv"),
        ("scan", "--report", "{out}/s.docx"),
        ("sandbox", "export-alerts", "{out}/a.xlsx"),
    ],
)
def test_a_full_disk_is_one_line_and_leaves_no_file(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    import errno

    import diagnose.paths

    def full(_descriptor: int) -> None:  # the disk fills as the file is flushed
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(diagnose.paths.os, "fsync", full)
    out = tmp_path / "out"
    out.mkdir()
    run = cli(*(a.format(out=out) for a in args))
    assert run.code == 2, run.err
    assert run.err.strip().splitlines()[-1].endswith("No space left on device"), run.err
    assert "Traceback" not in run.err
    assert "Exception ignored" not in run.err
    assert list(out.iterdir()) == []  # no partial file, no empty target


def test_a_scan_whose_pages_cannot_be_kept_still_gives_its_verdicts(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = cli("scan", "--json").json()["summary"]
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("x")
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(not_a_folder))
    run = cli("scan", "--json")
    assert run.code == 1, run.err
    assert run.json()["summary"] == expected
    assert "the pages could not be kept" in run.err
    fresh = cli("scan", "--json", "--fresh")  # forgetting what cannot be kept is no error either
    assert fresh.code == 1, fresh.err
    assert fresh.json()["summary"] == expected


def test_a_disk_that_fills_while_a_scan_keeps_its_pages_is_one_line(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import io

    import diagnose.scan_rows

    class Full(io.BytesIO):
        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as full:
        full.setattr(diagnose.scan_rows.tempfile, "TemporaryFile", lambda **_: Full())
        run = cli("scan", "--json")
    assert run.code == 2, run.err
    last = run.err.strip().splitlines()[-1]
    assert "cannot keep the fetched" in last
    assert "No space left on device" in last
    assert "Traceback" not in run.err
    assert cli("scan", "--json").code == 1  # nothing was left half-kept


def test_a_written_file_keeps_to_the_users_umask(cli: Callable[..., Run], tmp_path: Path) -> None:
    old = os.umask(0o077)  # a user who keeps their files private
    try:
        assert cli("learner", "123", "--report", str(tmp_path / "r.docx")).code == 1
        assert cli("learner", "123", "--save", str(tmp_path / "s.json")).code == 1
    finally:
        os.umask(old)
    for name in ("r.docx", "s.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
