"""The command line as a user meets it: output streams, exit codes, and every kind of bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Run, read_to_the_end
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def test_learner_123_shows_its_failures_with_fixes_and_exits_1(cli: Callable[..., Run]) -> None:
    run = cli("learner", "123")
    assert run.code == 1
    assert "SANDBOX" in run.out
    assert "✗ learner.sync-enabled" in run.out
    assert "✗ contact.active" in run.out
    assert run.out.count("Fix:") == 4
    assert "https://go.xero.com/Contacts/View/" in run.out
    assert run.err == ""


def test_a_learner_with_no_problem_exits_0_and_says_so(cli: Callable[..., Run]) -> None:
    run = cli("learner", "101")
    assert run.code == 0
    assert "Nothing blocks the sync." in run.out


def test_a_warning_alone_exits_0(cli: Callable[..., Run]) -> None:
    run = cli("learner", "115")
    assert run.code == 0
    assert "! learner.address" in run.out


def test_verbose_shows_passing_checks_evidence_and_calls(cli: Callable[..., Run]) -> None:
    run = cli("learner", "101", "-v")
    assert "✓ learner.email" in run.out
    assert "olivia.nguyen@example.com.au" in run.out
    assert "GET /v1/learnersAU/101" in run.out


def test_json_is_one_document_on_stdout(cli: Callable[..., Run]) -> None:
    run = cli("learner", "123", "--json")
    doc = run.json()
    assert doc["schema_version"] == 1
    assert doc["subject"] == {
        "kind": "learner",
        "ref": "123",
        "label": "learner 123 · Jane Citizen · STD0000123",
    }
    assert doc["status"] == "fail"
    assert doc["exit_code"] == 1 == run.code
    finding = next(f for f in doc["findings"] if f["id"] == "contact.active")
    assert set(finding) >= {"id", "status", "title", "message", "fix", "evidence"}
    assert finding["evidence"]["status"] == "ARCHIVED"
    assert {c["service"] for c in doc["calls"]} == {"wisenet", "xero"}
    assert "\x1b[" not in run.out


def test_json_fixes_and_explanations_read_as_sentences(cli: Callable[..., Run]) -> None:
    """A check's words are wrapped to fit its source file; a program reading the JSON (a ticket
    system, a spreadsheet) gets them as written prose, not broken mid-sentence."""
    sync = next(f for f in cli("learner", "123", "--json").json()["findings"] if f["fix"])
    assert "untick it, Save, tick it again and Save" in sync["fix"]
    catalogue = cli("checks", "--json").json()["checks"]
    assert len(catalogue) >= 18
    for check in catalogue:
        assert "\n" not in check["fix"], check["id"]
        assert "  " not in check["fix"], check["id"]
        assert "\n" not in check["explanation"], check["id"]


@pytest.mark.parametrize(
    ("ref", "kind"),
    [("STD0000123", "RefInternal"), ("Jane Citizen", "name"), ("jane citizen", "name")],
)
def test_a_learner_by_refinternal_or_name(cli: Callable[..., Run], ref: str, kind: str) -> None:
    run = cli("learner", ref, "--json")
    assert run.json()["subject"]["label"].startswith("learner 123 ")
    assert max(c["round"] for c in run.json()["calls"]) <= 2


def test_only_reports_just_the_named_checks(cli: Callable[..., Run]) -> None:
    run = cli("learner", "123", "--json", "--only", "contact.active,learner.email")
    assert {f["id"] for f in run.json()["findings"]} == {"contact.active", "learner.email"}
    assert run.code == 1
    assert cli("learner", "123", "--only", "learner.email").code == 0


def test_invoice_by_number_and_by_id_agree(cli: Callable[..., Run]) -> None:
    by_number = cli("invoice", "INV-0042", "--json").json()
    invoice_id = next(f for f in by_number["findings"] if f["id"] == "invoice.found")["target"][
        "key"
    ]
    by_id = cli("invoice", invoice_id.upper(), "--json").json()
    assert [(f["id"], f["status"]) for f in by_id["findings"]] == [
        (f["id"], f["status"]) for f in by_number["findings"]
    ]


def test_save_then_replay_reproduces_the_diagnosis_offline(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    snapshot = tmp_path / "snap.json"
    live = cli("learner", "123", "--json", "--save", str(snapshot))
    assert "evidence saved to" in live.err
    saved = json.loads(snapshot.read_text())
    assert saved["format"] == "diagnose-snapshot/1"
    assert "sandbox-wisenet-key" not in snapshot.read_text()
    assert "sandbox-xero-token" not in snapshot.read_text()
    replayed = cli("replay", str(snapshot), "--json")
    assert replayed.code == live.code
    strip = lambda doc: [(f["id"], f["status"], f["message"]) for f in doc["findings"]]  # noqa: E731
    assert strip(replayed.json()) == strip(live.json())


def test_checks_lists_the_catalogue(cli: Callable[..., Run]) -> None:
    run = cli("checks", "--json")
    ids = [c["id"] for c in run.json()["checks"]]
    assert ids[0] == "connection.wisenet"
    assert "invoice.in-wisenet" in ids
    assert "learner.field-mapping" in cli("checks").out


def _one_line_error(run: Run, code: int, *needles: str) -> None:
    assert run.code == code, run
    assert run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("diagnose: ")
    assert "Traceback" not in run.err
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["learner", "abc"], "no Wisenet learner has name 'abc'"),
        (["learner", "-5"], "-5 is not a LearnerId: a LearnerId is a positive whole number"),
        (["learner", "--", "-5"], "positive whole number"),
        (["learner", "99999999"], "no Wisenet learner has LearnerId '99999999'"),
        (["learner", ""], "empty"),
        (["learner", "   "], "empty"),
        (["learner", "0"], "positive whole number"),
        (["learner", "9" * 30], "positive whole number"),
        (["learner", '" || Name!=null || Name=="'], "no Wisenet learner has name"),
        (["learner", 'O\'Brien "JJ"'], "no Wisenet learner has name"),
        (["learner", "tab\there"], "control"),
        (["learner", "!!!"], "not a LearnerId, a RefInternal or a name"),
        (["invoice", "INV 0042"], "no Xero invoice has number 'INV 0042'"),
        (["invoice", "ÍNV-0042 ✓"], "no Xero invoice has number"),
        (["invoice", "INV-0042,INV-0001"], "comma"),
        (["invoice", ""], "empty"),
        (["invoice", "x" * 300], "longer than Xero allows"),
        (["learner", "123", "--only", "learner.nope"], "unknown check id 'learner.nope'"),
        (["learner"], "Missing argument"),
        (["tui", "frob"], "say 'learner' or 'invoice'"),
        (["tui", "learner"], "needs the learner's reference"),
        (["tui", "learner", "1", "--sandbox", "/no/such/tenant.json"], "does not exist"),
        (["tui"], "the walkthrough needs a terminal"),  # stdin and stdout are not one here
        (["frobnicate"], "No such command"),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(
    cli: Callable[..., Run], args: list[str], needle: str
) -> None:
    _one_line_error(cli(*args), 2, needle)


def test_several_learners_with_one_name_are_listed_and_exit_2(
    cli: Callable[..., Run], demo_tenant: dict[str, Any], write_tenant: Callable[..., Path]
) -> None:
    twin = json.loads(json.dumps(demo_tenant["wisenet"]["learners"][0]))
    twin["LearnerId"] = 201
    twin["Personal"]["LearnerNumber"] = "STD0000201"
    demo_tenant["wisenet"]["learners"].append(twin)
    run = cli("learner", "Olivia Nguyen", "--sandbox", str(write_tenant(demo_tenant)))
    assert run.code == 2
    assert run.out == ""
    assert "2 learners match 'Olivia Nguyen'" in run.err
    assert "101" in run.err
    assert "201" in run.err
    assert "STD0000201" in run.err
    listed = cli("learner", "Olivia Nguyen", "--sandbox", str(write_tenant(demo_tenant)), "--json")
    assert listed.json()["exit_code"] == 2  # --json: the same, as one document
    assert len(listed.json()["error"]["details"]) == 2


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "does not exist"),
        ('{"format": "diagnose-tenant/1",', "not valid JSON (line 1"),
        ("[]", "the file must be an object"),
        ('{"format": "other/2", "name": "x"}', "'format' must be 'diagnose-tenant/1'"),
        (
            '{"format": "diagnose-tenant/1", "name": "x", '
            '"wisenet": {"learners": [{"LearnerId": "1"}]}}',
            "wisenet.learners[0].LearnerId must be a whole number",
        ),
        (
            '{"format": "diagnose-tenant/1", "name": "x", '
            '"xero": {"invoices": [{"InvoiceID": "a"}]}}',
            "xero.invoices[0].Contact must be an object",
        ),
        (
            '{"format": "diagnose-tenant/1", "name": "x", "wisenet": {"learners": 5}}',
            "wisenet.learners must be a list",
        ),
    ],
)
def test_a_bad_sandbox_file_gets_one_line_and_exit_2(
    cli: Callable[..., Run], tmp_path: Path, content: str | None, needle: str
) -> None:
    path = tmp_path / "tenant.json"
    if content is not None:
        path.write_text(content)
    _one_line_error(cli("learner", "123", "--sandbox", str(path)), 2, needle)


def test_the_sandbox_env_var_picks_the_tenant_file(
    cli: Callable[..., Run],
    demo_tenant: dict[str, Any],
    write_tenant: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    learner_123 = next(x for x in demo_tenant["wisenet"]["learners"] if x["LearnerId"] == 123)
    learner_123["Personal"]["SyncToXero"] = True
    monkeypatch.setenv("DIAGNOSE_SANDBOX", str(write_tenant(demo_tenant)))
    fails = {
        f["id"] for f in cli("learner", "123", "--json").json()["findings"] if f["status"] == "fail"
    }
    assert "learner.sync-enabled" not in fails
    assert "contact.active" in fails


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("not json", "is not valid JSON"),
        ('{"format": "diagnose-snapshot/1"}', "is not a diagnose snapshot"),
        ('{"format": "diagnose-snapshot/9"}', "is not a diagnose snapshot"),
    ],
)
def test_a_corrupt_snapshot_gets_one_line_and_exit_2(
    cli: Callable[..., Run], tmp_path: Path, content: str, needle: str
) -> None:
    path = tmp_path / "snap.json"
    path.write_text(content)
    _one_line_error(cli("replay", str(path)), 2, needle)


def test_python_dash_m_diagnose_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "diagnose", "learner", "101"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Nothing blocks the sync." in done.stdout


def test_save_into_a_missing_folder_fails_before_fetching(cli: Callable[..., Run]) -> None:
    _one_line_error(cli("learner", "123", "--save", "/no/such/folder/snap.json"), 2, "folder")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ref=st.text(max_size=60))
def test_any_learner_reference_gets_a_diagnosis_or_one_line(
    cli: Callable[..., Run], ref: str
) -> None:
    run = cli("learner", "--json", "--", ref)
    assert run.code in (0, 1, 2), run
    assert "Traceback" not in run.err
    if run.code == 2:
        assert run.json()["exit_code"] == 2  # --json: a document even for a refusal
        assert run.json()["error"]["message"] in run.err
        assert run.err.startswith("diagnose: ")
    else:
        assert run.json()["subject"]["ref"] == ref


def test_bare_diagnose_and_dash_h_show_the_help(cli: Callable[..., Run]) -> None:
    for args in ((), ("-h",), ("learner", "-h")):
        run = cli(*args)
        assert run.code == 0, args
        assert run.out.startswith("Usage: diagnose"), args
    assert "--install-completion" in cli("--help").out


def test_json_failures_are_one_document_with_the_error(cli: Callable[..., Run]) -> None:
    for args, code in (
        (("learner", "999999"), 2),
        (("invoice", "INV-9999"), 2),
    ):
        run = cli(*args, "--json")
        document = run.json()
        assert (run.code, document["exit_code"]) == (code, code), args
        assert document["error"]["message"] in run.err


def test_invoice_numbers_ignore_letter_case_as_xero_s_search_does(cli: Callable[..., Run]) -> None:
    run = cli("invoice", "inv-0042", "--json")
    assert run.code == 1
    assert run.json()["subject"]["label"].startswith("invoice INV-0042")


def test_a_partial_name_match_is_said(cli: Callable[..., Run]) -> None:
    run = cli("learner", "Jan")
    assert "note: no learner is called 'Jan'; the only partial match is learner 123" in run.err


def test_no_color_at_a_terminal_prints_no_colour_codes(tmp_path: Path) -> None:
    import pty

    def at_a_terminal(**env: str) -> bytes:
        pid, fd = pty.fork()
        if pid == 0:  # the child: diagnose at a terminal of 100 columns, and nothing else
            try:
                os.environ.update(env, COLUMNS="100", DIAGNOSE_DATA_DIR=str(tmp_path))
                os.execv(sys.executable, [sys.executable, "-m", "diagnose", "learner", "123"])  # noqa: S606
            finally:
                os._exit(127)
        out = read_to_the_end(fd)
        os.waitpid(pid, 0)
        return out

    assert b"\x1b[" in at_a_terminal()  # colour at a terminal, normally
    plain = at_a_terminal(NO_COLOR="1")
    assert b"learner.sync-enabled" in plain
    assert b"\x1b[" not in plain


def test_a_name_written_surname_first_is_understood(cli: Callable[..., Run]) -> None:
    run = cli("learner", "Citizen, Jane", "--json")
    assert run.code == 1
    assert run.json()["subject"]["label"] == "learner 123 · Jane Citizen · STD0000123"
    assert "note:" not in run.err  # the whole name, not a partial match


@pytest.mark.parametrize("args", [("learner", "123"), ("invoice", "INV-0042", "-v")])
def test_a_diagnosis_fits_a_narrow_terminal_but_for_its_links(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    run = cli(*args)
    wide = [line for line in run.out.splitlines() if len(line) > 60]
    assert all(line.lstrip().startswith(("→ https://", "r1 ", "r2 ", "r3 ")) for line in wide), wide
    assert "SANDBOX · Demo RTO Pty Ltd · sample data, not your\norganisation" in run.out
    assert re.search(r"\n\(\d API calls in \d rounds, [\d.]+ s\)$", run.out.rstrip())
