"""Remedies on the sandbox: they fix what they say, write nothing when they should not, survive
interruption, and leave an audit trail without secrets."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Run
from harness import FAULTS_ENV, command

from diagnose.remedy import retoggle
from diagnose.sandbox import demo_tenant_path

FAULTS = FAULTS_ENV


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retoggle, "TICK_BACKOFF", (0.0, 0.0, 0.0))


def statuses(run: Run, kind: str = "learner") -> dict[str, str]:
    return {f["id"]: f["status"] for f in run.json()["findings"] if f["target"]["kind"] == kind}


def working_copy(data_dir: Path) -> dict[str, Any]:
    return json.loads((data_dir / "sandbox" / "demo.json").read_text())  # type: ignore[no-any-return]


def learner_in(tenant: dict[str, Any], learner_id: int) -> dict[str, Any]:
    return next(x for x in tenant["wisenet"]["learners"] if x["LearnerId"] == learner_id)


def audit_entries(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_resync_of_an_unticked_learner_ends_with_every_check_passing(
    cli: Callable[..., Run], data_dir: Path
) -> None:
    assert statuses(cli("learner", "103", "--json"))["learner.sync-enabled"] == "fail"
    run = cli("resync", "learner", "103", "--yes", "--wait", "1m")
    assert run.code == 0, run.err
    assert '"Sync to Xero" was not ticked: it is ticked now' in run.out
    assert "learner 103: synced" in run.out
    after = cli("learner", "103", "--json")
    assert after.code == 0
    assert set(statuses(after).values()) == {"pass"}
    entry = audit_entries(data_dir)[-1]
    assert (entry["action"], entry["subject"], entry["outcome"]) == (
        "resync",
        "learner 103",
        "done",
    )
    assert (entry["before"], entry["after"], entry["api_status"]) == (False, True, 200)


def test_the_plans_show_exactly_the_writes_that_are_sent(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    from diagnose.sources.calls import Request
    from diagnose.sources.http import Session

    sent: list[str] = []
    send = Session.sent

    async def record(self: Session, request: Request) -> Any:
        sent.append(request.shown(self.base_path))
        return await send(self, request)

    monkeypatch.setattr(Session, "sent", record)
    for args in (("resync", "learner", "101"), ("fix", "contact-code", "learner", "108")):
        sent.clear()
        run = cli(*args, "--yes")
        assert run.code == 0, run.err
        planned = [
            line.strip()
            for line in run.err.splitlines()
            if line.strip().startswith(("PATCH ", "POST "))
        ]
        assert planned
        assert planned == sent  # byte for byte, the Idempotency-Key too


def test_a_ticked_learner_is_unticked_then_ticked_with_read_backs(
    cli: Callable[..., Run], data_dir: Path
) -> None:
    run = cli("resync", "learner", "101", "--yes")
    assert run.code == 0, run.err
    assert "unticked and ticked again" in run.out
    assert learner_in(working_copy(data_dir), 101)["Personal"]["SyncToXero"] is True
    assert not list((data_dir / "journal").glob("*.json"))


def test_dry_run_prints_the_writes_and_changes_nothing(
    cli: Callable[..., Run], data_dir: Path, demo_tenant: dict[str, Any], write_tenant: Any
) -> None:
    demo_bytes = demo_tenant_path().read_bytes()
    run = cli("resync", "learner", "101", "--dry-run")
    assert run.code == 0
    assert '"path": "Personal/SyncToXero", "value": false' in run.out
    assert "GET /v1/learnersAU/101  (read back" in run.out
    assert not (data_dir / "sandbox").exists()
    assert demo_tenant_path().read_bytes() == demo_bytes
    source = write_tenant(demo_tenant)
    before = source.read_bytes()
    assert (
        cli("fix", "contact-code", "learner", "108", "--dry-run", "--sandbox", str(source)).code
        == 0
    )
    assert source.read_bytes() == before
    assert not (data_dir / "sandbox").exists()
    assert audit_entries(data_dir) == []


def test_writes_go_to_a_working_copy_never_to_the_sandbox_file(
    cli: Callable[..., Run], data_dir: Path, demo_tenant: dict[str, Any], write_tenant: Any
) -> None:
    source = write_tenant(demo_tenant)
    before = source.read_bytes()
    assert cli("resync", "learner", "103", "--yes", "--sandbox", str(source)).code == 0
    assert source.read_bytes() == before
    after = cli("learner", "103", "--json", "--sandbox", str(source))
    assert statuses(after)["learner.sync-enabled"] == "pass"  # the next command sees the write
    assert cli("sandbox", "reset", "--sandbox", str(source)).code == 0
    again = cli("learner", "103", "--json", "--sandbox", str(source))
    assert statuses(again)["learner.sync-enabled"] == "fail"


def test_without_yes_and_without_a_terminal_nothing_is_written(
    cli: Callable[..., Run], data_dir: Path
) -> None:
    run = cli("resync", "learner", "101")
    assert run.code == 2
    assert "needs --yes" in run.err
    assert not (data_dir / "sandbox").exists()


def test_a_failure_after_the_untick_is_recovered_by_the_next_command(
    cli: Callable[..., Run], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the untick (1st PATCH) goes through; every tick after it fails
    monkeypatch.setenv(
        FAULTS,
        json.dumps([{"method": "PATCH", "path": "/v1/learnersAU/101", "from": 2, "status": 503}]),
    )
    run = cli("resync", "learner", "101", "--yes")
    assert run.code == 3
    last = run.err.strip().splitlines()[-1]  # after the plan of writes: one line saying why
    assert last.startswith('diagnose: learner 101 may be left with "Sync to Xero" unticked')
    assert learner_in(working_copy(data_dir), 101)["Personal"]["SyncToXero"] is False
    assert len(list((data_dir / "journal").glob("*.json"))) == 1
    monkeypatch.delenv(FAULTS)
    after = cli("learner", "101", "--json")  # any command finishes it first
    assert "the interrupted resync is finished" in after.err
    assert statuses(after)["learner.sync-enabled"] == "pass"
    assert not list((data_dir / "journal").glob("*.json"))
    outcomes = [(e["action"], e["outcome"]) for e in audit_entries(data_dir)]
    assert outcomes == [("resync", "failed"), ("resync-recover", "done")]


def test_resync_recover_finishes_it_explicitly(
    cli: Callable[..., Run], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        FAULTS,
        json.dumps([{"method": "PATCH", "path": "/v1/learnersAU/101", "from": 2, "status": 503}]),
    )
    cli("resync", "learner", "101", "--yes")
    monkeypatch.delenv(FAULTS)
    run = cli("resync", "--recover")
    assert run.code == 0
    assert 'Sync to Xero" is ticked' in run.err
    assert learner_in(working_copy(data_dir), 101)["Personal"]["SyncToXero"] is True
    assert "nothing to recover" in cli("resync", "--recover").out


def test_a_tick_that_fails_once_is_retried(
    cli: Callable[..., Run], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        FAULTS,
        json.dumps([{"method": "PATCH", "path": "/v1/learnersAU/101", "nth": 2, "status": 503}]),
    )
    run = cli("resync", "learner", "101", "--yes")
    assert run.code == 0, run.err
    assert learner_in(working_copy(data_dir), 101)["Personal"]["SyncToXero"] is True


def _spawn(args: list[str], data_dir: Path, faults: list[dict[str, Any]]) -> subprocess.Popen[str]:
    env = {**os.environ, "DIAGNOSE_DATA_DIR": str(data_dir), FAULTS: json.dumps(faults)}
    return subprocess.Popen(
        command(*args),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as at a terminal, even when the tests run as a background job (which ignores it)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def hang_on_tick(data_dir: Path) -> list[dict[str, Any]]:
    """The tick (2nd PATCH) hangs, and says when it has arrived: the untick is done by then."""
    mark = str(data_dir / "tick-arrived")
    return [{"method": "PATCH", "path": "/v1/learnersAU/101", "nth": 2, "hang": 60, "mark": mark}]


def _wait_for_hung_tick(data_dir: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if (data_dir / "tick-arrived").exists():
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    raise AssertionError("the resync never reached the tick")


def test_a_process_killed_after_the_untick_is_finished_by_the_next_command(
    cli: Callable[..., Run], data_dir: Path
) -> None:
    process = _spawn(["resync", "learner", "101", "--yes"], data_dir, hang_on_tick(data_dir))
    try:
        _wait_for_hung_tick(data_dir, process)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.communicate(timeout=10)
    assert learner_in(working_copy(data_dir), 101)["Personal"]["SyncToXero"] is False
    after = cli("learner", "101", "--json")
    assert "the interrupted resync is finished" in after.err
    assert statuses(after)["learner.sync-enabled"] == "pass"


def test_ctrl_c_after_the_untick_ticks_again_before_exiting(data_dir: Path) -> None:
    process = _spawn(["resync", "learner", "101", "--yes"], data_dir, hang_on_tick(data_dir))
    try:
        _wait_for_hung_tick(data_dir, process)  # the interrupt lands while the tick hangs
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.communicate(timeout=10)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert learner_in(working_copy(data_dir), 101)["Personal"]["SyncToXero"] is True
    assert not list((data_dir / "journal").glob("*.json"))


def test_several_learners_one_failure_does_not_stop_the_others(
    cli: Callable[..., Run], data_dir: Path, tmp_path: Path
) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("# learners to resync\n103\n\n99999999\n104  # missing surname\n")
    run = cli("resync", "learner", "101", "--from-file", str(ids), "--yes")
    assert run.code == 1
    assert "✓ learner 101" in run.out
    assert "✓ learner 103" in run.out
    assert "✓ learner 104" in run.out
    assert "✗ learner 99999999: no Wisenet learner has LearnerId 99999999" in run.out
    assert "3 of 4 learners re-toggled" in run.err
    tenant = working_copy(data_dir)
    alerts = [a for a in tenant["wisenet"]["event_alerts"] if a["RelatedRecord"] == "STD0000104"]
    assert [a["AlertDetails"] for a in alerts] == [
        "LastName is required"
    ]  # as the integration would


def test_a_bad_id_file_line_is_named(cli: Callable[..., Run], tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("101\nJane Citizen\n")
    run = cli("resync", "learner", "--from-file", str(ids), "--yes")
    assert run.code == 2
    assert f"{ids} line 2" in run.err


def test_the_scans_csv_names_the_learners_to_resync(
    cli: Callable[..., Run], data_dir: Path, tmp_path: Path
) -> None:
    found = tmp_path / "unticked.csv"
    assert cli("scan", "--only", "learner.sync-enabled", "--csv", str(found)).code == 1
    # as Excel saves it again: a byte order mark, and the invoices' rows of a whole scan
    whole = tmp_path / "whole.csv"
    assert cli("scan", "--csv", str(whole)).code == 1
    invoice_rows = [line for line in whole.read_text().splitlines() if ",invoice," in line]
    assert invoice_rows
    found.write_text("\ufeff" + found.read_text() + "\n".join(invoice_rows) + "\n")
    run = cli("resync", "learner", "--from-file", str(found), "--yes")
    assert run.code == 0, run.err
    assert "2 of 2 learners re-toggled" in run.err
    learners = working_copy(data_dir)["wisenet"]["learners"]
    assert all(x["Personal"]["SyncToXero"] for x in learners)
    assert cli("scan", "--only", "learner.sync-enabled").code == 0

    only_invoices = tmp_path / "invoices.csv"
    only_invoices.write_text(whole.read_text().splitlines()[0] + "\n" + invoice_rows[0] + "\n")
    written = len(audit_entries(data_dir))
    run = cli("resync", "learner", "--from-file", str(only_invoices), "--yes")
    assert run.code == 2
    assert run.err.strip() == (
        f"diagnose: {only_invoices}: the scan's CSV names no learner, only other records"
    )
    assert len(audit_entries(data_dir)) == written  # nothing was tried


def test_an_id_file_saved_with_a_byte_order_mark_is_read(
    cli: Callable[..., Run], data_dir: Path, tmp_path: Path
) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_bytes("\ufeff103\r\n".encode())  # as Notepad saves it
    run = cli("resync", "learner", "--from-file", str(ids), "--dry-run")
    assert run.code == 0, run.err
    assert "PATCH /v1/learnersAU/103" in run.out


def test_ticking_a_complete_learner_creates_the_contact_with_the_code(
    cli: Callable[..., Run], demo_tenant: dict[str, Any], write_tenant: Any
) -> None:
    learner_in(demo_tenant, 104)["Personal"]["LastName"] = "Kaur"  # now complete, never synced
    source = str(write_tenant(demo_tenant))
    assert statuses(cli("learner", "104", "--json", "--sandbox", source))["contact.found"] == "fail"
    assert cli("resync", "learner", "104", "--yes", "--sandbox", source).code == 0
    after = statuses(cli("learner", "104", "--json", "--sandbox", source))
    assert after["contact.found"] == "pass"
    assert after["contact.in-sync"] == "pass"


def test_the_contact_code_fix_repairs_the_merged_learner(
    cli: Callable[..., Run], data_dir: Path
) -> None:
    assert statuses(cli("learner", "108", "--json"))["contact.found"] == "fail"
    run = cli("fix", "contact-code", "learner", "108", "--yes")
    assert run.code == 0, run.err
    assert "Isabella Rossi now has Contact Code STD0000108" in run.out
    after = statuses(cli("learner", "108", "--json"))
    assert after["contact.found"] == "pass"
    assert after["contact.active"] == "pass"
    entry = audit_entries(data_dir)[-1]
    assert (entry["action"], entry["outcome"], entry["after"]) == (
        "fix-contact-code",
        "done",
        "STD0000108",
    )
    assert entry["correlation_id"]


def _refused(cli: Callable[..., Run], data_dir: Path, source: Path, learner: str, why: str) -> None:
    before = source.read_bytes()
    run = cli("fix", "contact-code", "learner", learner, "--yes", "--sandbox", str(source))
    assert run.code == 1
    assert f"will not set the Contact Code: {why}" in run.err
    assert "What to do instead:" in run.err
    assert source.read_bytes() == before
    assert not (data_dir / "sandbox").exists()  # nothing was written at all
    entry = audit_entries(data_dir)[-1]
    assert (entry["outcome"], entry["subject"]) == ("refused", f"learner {learner}")


def test_the_fix_refuses_several_candidates(
    cli: Callable[..., Run], data_dir: Path, demo_tenant: dict[str, Any], write_tenant: Any
) -> None:
    survivor = next(
        c
        for c in demo_tenant["xero"]["contacts"]
        if c["Name"] == "Isabella Rossi" and c["ContactStatus"] == "ACTIVE"
    )
    twin = {**survivor, "ContactID": "99999999-0000-4000-8000-000000000108"}
    demo_tenant["xero"]["contacts"].append(twin)
    _refused(
        cli,
        data_dir,
        write_tenant(demo_tenant),
        "108",
        "2 active contacts match this learner closely",
    )


def test_the_fix_refuses_in_one_line_when_xero_was_not_reached(
    cli: Callable[..., Run], data_dir: Path, demo_tenant: dict[str, Any], write_tenant: Any
) -> None:
    demo_tenant["xero"]["connections"] = []  # no organisation: the contact checks are skipped
    _refused(cli, data_dir, write_tenant(demo_tenant), "108", "the Xero contacts could not be read")


def test_the_fix_refuses_an_archived_candidate(
    cli: Callable[..., Run], data_dir: Path, demo_tenant: dict[str, Any], write_tenant: Any
) -> None:
    for contact in demo_tenant["xero"]["contacts"]:
        if contact["Name"] == "Isabella Rossi":
            contact["ContactStatus"] = "ARCHIVED"
    _refused(
        cli, data_dir, write_tenant(demo_tenant), "108", "the only look-alike contact is archived"
    )


def test_the_fix_refuses_when_another_contact_holds_the_code(
    cli: Callable[..., Run], data_dir: Path, demo_tenant: dict[str, Any], write_tenant: Any
) -> None:
    merged = next(c for c in demo_tenant["xero"]["contacts"] if c.get("MergedToContactID"))
    merged["ContactNumber"] = "STD0000108"  # the archived, merged-away contact kept the code
    _refused(
        cli, data_dir, write_tenant(demo_tenant), "108", "Isabella Rossi (archived) already holds"
    )


def test_the_audit_log_holds_no_secret_and_audit_shows_it(
    cli: Callable[..., Run], data_dir: Path
) -> None:
    cli("resync", "learner", "103", "--yes")
    cli("fix", "contact-code", "learner", "104", "--yes")
    text = (data_dir / "audit.jsonl").read_text()
    for secret in ("sandbox-wisenet-key", "sandbox-xero-token", "Bearer"):
        assert secret not in text
    shown = cli("audit")
    assert "resync  learner 103  done" in shown.out
    assert "fix-contact-code  learner 104  refused" in shown.out
    document = cli("audit", "--json", "--subject", "learner 103").json()
    assert [e["action"] for e in document["entries"]] == ["resync"]
    assert oct((data_dir / "audit.jsonl").stat().st_mode & 0o777) == "0o600"


def test_the_word_report_lists_the_remedies_tried(cli: Callable[..., Run], tmp_path: Path) -> None:
    from docx import Document

    cli("resync", "learner", "123", "--yes")
    out = tmp_path / "after.docx"
    cli("learner", "123", "--report", str(out))
    document = Document(str(out))
    rows = [" | ".join(c.text for c in row.cells) for t in document.tables for row in t.rows]
    done = next(r for r in rows if "ran resync" in r)  # the timeline: when, who, how it ended
    assert 'ran resync, done: "Sync to Xero" was not ticked: it is ticked now' in done
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d AE[DS]T", done)
