"""Writes under faults: a resync killed at every step ends ticked with nothing written twice; the
Contact Code fix is applied once however its answer is lost; concurrent processes leave the
journal, the audit log and the sandbox whole. The sandbox logs every write it accepted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FIGURES, Run
from harness import FAILPOINT_ENV, FAULTS_ENV, command
from test_remedies import audit_entries, learner_in, statuses, working_copy

from diagnose.remedy import RESYNC_STEPS

UNTICK = (
    'PATCH /v1/learnersAU/101 [{"op": "replace", "path": "Personal/SyncToXero", "value": false}]'
)
TICK = UNTICK.replace("false", "true")


def writes(data_dir: Path) -> list[str]:
    log = data_dir / "sandbox" / "demo.writes.jsonl"
    if not log.exists():
        return []
    return [json.loads(line)["write"] for line in log.read_text().splitlines()]


def diagnose(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    done = subprocess.run(
        command(*args),  # through the harness: a test's failpoint or faults in place
        env={**os.environ, "DIAGNOSE_DATA_DIR": str(data_dir), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Run(done.returncode, done.stdout, done.stderr)


# what the killed process wrote, then what the next command wrote to finish it
KILLED_AT = {
    "resync.before-untick": ([], []),
    "resync.after-untick": ([UNTICK], [TICK]),
    "resync.after-tick": ([UNTICK, TICK], []),
    "resync.before-done": ([UNTICK, TICK], []),
}


@pytest.mark.parametrize("step", RESYNC_STEPS)
def test_a_resync_killed_at_any_step_ends_ticked_with_nothing_written_twice(
    cli: Callable[..., Run], data_dir: Path, step: str
) -> None:
    killed = diagnose(data_dir, "resync", "learner", "101", "--yes", env={FAILPOINT_ENV: step})
    assert killed.code == -9, killed.err  # SIGKILL: no handler ran, no journal tidied
    before, after = KILLED_AT[step]
    assert writes(data_dir) == before
    assert len(list((data_dir / "journal").glob("*.json"))) == 1

    diagnosis = cli("learner", "101", "--json")  # any command finishes the journal first
    assert "the interrupted resync is finished" in diagnosis.err
    assert statuses(diagnosis)["learner.sync-enabled"] == "pass"
    if before + after:  # else nothing was ever written: the demo tenant itself is ticked
        assert learner_in(working_copy(data_dir), 101)["Personal"]["SyncToXero"] is True
    assert writes(data_dir) == before + after
    assert not list((data_dir / "journal").glob("*.json"))
    assert audit_entries(data_dir)[-1]["action"] == "resync-recover"
    FIGURES[f"killed at {step}"] = (
        f"recovered by the next command, learner ticked; writes {len(before)} + {len(after)}, "
        "none twice"
    )
    assert "recover" in cli("resync", "--recover").out  # nothing left: "nothing to recover"


def test_a_contact_code_write_whose_answer_is_lost_is_applied_once(
    cli: Callable[..., Run], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = cli("fix", "contact-code", "learner", "108", "--dry-run").out
    contact_id = plan.split("POST /api.xro/2.0/Contacts/")[1][:36]
    monkeypatch.setenv(  # Xero carries out the write, then the answer is lost on the way
        FAULTS_ENV,
        json.dumps(
            [
                {
                    "method": "POST",
                    "path": f"/api.xro/2.0/Contacts/{contact_id}",
                    "nth": 1,
                    "status": 503,
                    "applied": True,
                }
            ]
        ),
    )
    run = cli("fix", "contact-code", "learner", "108", "--yes")
    assert run.code == 0, run.err
    assert "Isabella Rossi now has Contact Code STD0000108" in run.out
    posts = [w for w in writes(data_dir) if w.startswith("POST")]
    assert posts == [f"POST /api.xro/2.0/Contacts/{contact_id} ContactNumber=STD0000108"]
    monkeypatch.delenv(FAULTS_ENV)
    again = cli("fix", "contact-code", "learner", "108", "--yes")  # a second run: nothing to do
    assert again.code == 0, again.err
    assert "Isabella Rossi already holds Contact Code STD0000108 (set by diagnose at" in again.out
    assert "nothing written" in again.out
    assert [w for w in writes(data_dir) if w.startswith("POST")] == posts


def test_three_fixes_of_one_learner_at_once_write_once_and_all_succeed(data_dir: Path) -> None:
    env = {**os.environ, "DIAGNOSE_DATA_DIR": str(data_dir)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "diagnose", "fix", "contact-code", "learner", "108", "--yes"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(p.wait(timeout=120), *p.communicate()) for p in processes]
    assert [code for code, _, _ in results] == [0, 0, 0], [err for _, _, err in results]
    outs = sorted(out for _, out, _ in results)
    assert sum("now has Contact Code STD0000108" in out for out in outs) == 1
    assert sum("nothing to fix, nothing written" in out for out in outs) == 2
    assert not any("merge the look-alike" in err for _, _, err in results)
    assert len([w for w in writes(data_dir) if w.startswith("POST")]) == 1


def test_concurrent_processes_keep_journal_audit_log_and_sandbox_whole(
    data_dir: Path,
) -> None:
    learners = ["101", "103", "105", "106", "110", "111"]
    env = {**os.environ, "DIAGNOSE_DATA_DIR": str(data_dir)}
    commands = [["resync", "learner", lid, "--yes"] for lid in learners]
    commands += [["learner", lid, "--json"] for lid in learners]  # readers alongside
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "diagnose", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    results: list[tuple[list[str], int, str, str]] = [
        (args, p.wait(timeout=120), *p.communicate())
        for args, p in zip(commands, processes, strict=True)
    ]
    for args, code, out, err in results:
        assert "Traceback" not in out + err
        if args[0] == "resync":
            assert code == 0, (args, err)
        else:
            json.loads(out)  # a reader saw a whole sandbox, never a half-written one
    audit: list[dict[str, Any]] = audit_entries(data_dir)  # every line whole JSON
    assert sorted(e["subject"] for e in audit if e["outcome"] == "done") == sorted(
        f"learner {lid}" for lid in learners
    )
    assert not list((data_dir / "journal").glob("*.json"))
    tenant = working_copy(data_dir)  # the writers took turns: no write of one was lost
    assert all(learner_in(tenant, int(lid))["Personal"]["SyncToXero"] is True for lid in learners)
    ticks = [w for w in writes(data_dir) if '"value": true' in w]
    assert len(ticks) == len(learners)
    FIGURES["concurrent writers"] = (
        f"{len(learners)} resyncs and {len(learners)} diagnoses at once: {len(audit)} audit "
        f"lines whole, journal empty, {len(ticks)} ticks, none lost"
    )


def test_concurrent_scans_share_the_cache_without_corrupting_it(data_dir: Path) -> None:
    env = {**os.environ, "DIAGNOSE_DATA_DIR": str(data_dir)}  # the cache is $DIAGNOSE_CACHE_DIR
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "diagnose", "scan", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all("Traceback" not in out + err for out, err in outputs)
    findings = [json.loads(out)["findings"] for out, _ in outputs]
    assert all(f == findings[0] for f in findings)
    cached = list((Path(env["DIAGNOSE_CACHE_DIR"]) / "scan").rglob("*.json"))
    assert cached
    for path in cached:
        json.loads(path.read_text())  # whole, never two writers' halves
    rows = list((Path(env["DIAGNOSE_CACHE_DIR"]) / "scan").rglob("*.rows.jsonl"))
    assert len(rows) == 4  # the four resources' rows, one JSON document a line
    for path in rows:
        assert all(isinstance(json.loads(line), dict) for line in path.read_text().splitlines())
    again = diagnose(data_dir, "scan", "--json")
    assert json.loads(again.out)["findings"] == findings[0]
