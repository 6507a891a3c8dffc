"""The walkthrough left open while other diagnose commands change the same sandbox, as happens
when a support person works in two terminals: it shows their writes, its own writes take turns
with theirs (the sandbox's writer lock) and keep them, and it says when it waits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import read_to_the_end
from test_remedies import learner_in, working_copy
from test_tui import SIZE, rows, settle
from test_writes import writes

from diagnose import runner
from diagnose.model import SubjectKind
from diagnose.sandbox import demo_tenant_path
from diagnose.sandbox.workcopy import working_copy_path
from diagnose.tui.app import DiagnoseApp
from diagnose.tui.dialogs import ConfirmScreen

CODE = "STD0000108"  # learner 108's, lost from its contact by a merge (the demo's)

HOLD = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[2]))
print(time.time(), flush=True)  # about to let go
"""


def other_command(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`diagnose ARGS…` in a process of its own: another terminal."""
    return subprocess.run(
        [sys.executable, "-m", "diagnose", *args],
        env={**os.environ, "DIAGNOSE_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def coded(tenant: dict[str, Any]) -> list[str]:
    return [c["ContactID"] for c in tenant["xero"]["contacts"] if c.get("ContactNumber") == CODE]


def holding(seconds: float) -> subprocess.Popen[str]:
    """Another process holding the demo sandbox's writer lock for `seconds`."""
    path = runner.writer_lock(demo_tenant_path(), demo=True).lock_file
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, path, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None
    assert holder.stdout.readline() == "held\n"
    return holder


async def confirm(pilot: Any, key: str) -> None:
    await pilot.press(key)
    await pilot.pause(ConfirmScreen.SETTLE + 0.1)
    assert isinstance(pilot.app.screen, ConfirmScreen)
    await pilot.press("y")


async def test_a_retoggle_keeps_what_another_command_wrote_meanwhile(data_dir: Path) -> None:
    assert not coded(json.loads(demo_tenant_path().read_text()))  # lost, until it is fixed
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="103")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert rows(app)["learner.sync-enabled@learner"] == "✗"
        fixed = other_command(data_dir, "fix", "contact-code", "learner", "108", "--yes")
        assert fixed.returncode == 0, fixed.stderr
        await confirm(pilot, "t")
        await settle(pilot)
        await settle(pilot)
        assert rows(app)["learner.sync-enabled@learner"] == "✓"
    tenant = working_copy(data_dir)
    assert learner_in(tenant, 103)["Personal"]["SyncToXero"] is True
    assert len(coded(tenant)) == 1  # the other command's write was not written over
    assert [w.split()[0] for w in writes(data_dir)] == ["POST", "PATCH"]


async def test_a_rerun_shows_what_another_command_wrote(data_dir: Path) -> None:
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="108")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert rows(app)["contact.found@learner"] == "✗"
        fixed = other_command(data_dir, "fix", "contact-code", "learner", "108", "--yes")
        assert fixed.returncode == 0, fixed.stderr
        await pilot.press("r")
        await settle(pilot)
        assert rows(app)["contact.found@learner"] == "✓"
        reset = other_command(data_dir, "sandbox", "reset")  # and forgotten again
        assert reset.returncode == 0, reset.stderr
        await pilot.press("r")
        await settle(pilot)
        assert rows(app)["contact.found@learner"] == "✗"


async def test_a_write_waits_for_another_command_and_says_so(data_dir: Path) -> None:
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="103")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        holder = holding(1.5)
        await confirm(pilot, "t")
        await settle(pilot)
        await settle(pilot)
        let_go = float(holder.communicate(timeout=10)[0])
        assert holder.returncode == 0
        said = [n.message for n in app._notifications]
        assert runner.WAITING in said
        assert any("it is ticked now" in m for m in said)
        assert rows(app)["learner.sync-enabled@learner"] == "✓"
    log = (data_dir / "sandbox" / "demo.writes.jsonl").read_text().splitlines()
    first = datetime.fromisoformat(json.loads(log[0])["at"]).timestamp()
    assert first >= let_go  # written once the other had finished


async def test_a_write_is_refused_when_another_command_keeps_the_sandbox(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "WRITER_WAIT", 0.5)
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="103")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        holder = holding(60)
        try:
            started = time.monotonic()
            await confirm(pilot, "t")
            await settle(pilot)
            assert time.monotonic() - started < 10
            said = [n.message for n in app._notifications]
            assert any("another diagnose command has been changing this sandbox" in m for m in said)
            assert rows(app)["learner.sync-enabled@learner"] == "✗"
        finally:
            holder.kill()
            holder.communicate()
    assert not working_copy_path(demo_tenant_path(), demo=True).exists()  # nothing written


def test_a_reset_waits_for_a_write_under_way(data_dir: Path) -> None:
    fixed = other_command(data_dir, "fix", "contact-code", "learner", "108", "--yes")
    assert fixed.returncode == 0, fixed.stderr
    holder = holding(1.5)
    started = time.monotonic()
    reset = other_command(data_dir, "sandbox", "reset")
    waited = time.monotonic() - started
    let_go = holder.communicate(timeout=10)[0]
    assert reset.returncode == 0, reset.stderr
    assert "back to the built-in demo" in reset.stdout
    assert let_go
    assert waited >= 1.0  # it did not delete the copy while a write was under way
    assert not working_copy_path(demo_tenant_path(), demo=True).exists()


def test_a_resync_that_waits_for_the_sync_lets_other_commands_write(data_dir: Path) -> None:
    """`resync --wait` holds the sandbox while it writes, not while it waits: learner 104 has no
    surname, so it waits the whole minute, and a Contact Code fix goes ahead."""
    with subprocess.Popen(
        [sys.executable, "-m", "diagnose", "resync", "learner", "104", "--yes", "--wait", "1m"],
        env={**os.environ, "DIAGNOSE_DATA_DIR": str(data_dir)},
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    ) as waiting:
        try:
            assert waiting.stderr is not None
            said = ""
            while "waiting up to 1 min for learner 104" not in said:  # the plan, then the wait
                line = waiting.stderr.readline()
                assert line, said  # not ended before it waited
                said += line
            started = time.monotonic()
            fixed = other_command(data_dir, "fix", "contact-code", "learner", "108", "--yes")
            assert fixed.returncode == 0, fixed.stderr
            assert time.monotonic() - started < 30  # not kept out until the wait ends
            assert waiting.poll() is None  # still waiting
        finally:
            waiting.kill()
            waiting.communicate()
    assert len(coded(working_copy(data_dir))) == 1


def test_a_command_asking_for_confirmation_keeps_no_one_out(data_dir: Path) -> None:
    """`diagnose resync learner 103` at a terminal, its question unanswered: a Contact Code fix
    in another terminal goes ahead, and the re-toggle, confirmed after it, keeps that fix."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # the child: the re-toggle at a terminal, waiting for its y
        try:
            os.environ.update(DIAGNOSE_DATA_DIR=str(data_dir))
            os.execv(  # noqa: S606
                sys.executable, [sys.executable, "-m", "diagnose", "resync", "learner", "103"]
            )
        finally:
            os._exit(127)
    shown = b""
    while b"Make these writes?" not in shown:
        chunk = os.read(fd, 4096)
        assert chunk, shown
        shown += chunk
    started = time.monotonic()
    fixed = other_command(data_dir, "fix", "contact-code", "learner", "108", "--yes")
    assert fixed.returncode == 0, fixed.stderr
    assert time.monotonic() - started < 30  # not kept out by a question nobody answered yet
    os.write(fd, b"y\n")
    shown += read_to_the_end(fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, shown
    assert b"it is ticked now" in shown
    tenant = working_copy(data_dir)
    assert learner_in(tenant, 103)["Personal"]["SyncToXero"] is True
    assert len(coded(tenant)) == 1


def test_a_command_line_write_says_it_waits_its_turn(data_dir: Path) -> None:
    holder = holding(1.5)
    run = other_command(data_dir, "resync", "learner", "103", "--yes")
    let_go = holder.communicate(timeout=10)[0]
    assert let_go
    assert run.returncode == 0, run.stderr
    assert f"diagnose: {runner.WAITING}" in run.stderr
    assert learner_in(working_copy(data_dir), 103)["Personal"]["SyncToXero"] is True
