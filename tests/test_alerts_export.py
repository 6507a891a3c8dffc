"""Event Alerts exports: Wisenet has no API for them, so staff export LRM › Reports › Event
Alerts › Xero and hand the file to diagnose, once (`--alerts`) or for good (`alerts import`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Run
from test_live_remedies import loop  # noqa: F401 — the live profile fixture, used by name

from diagnose.errors import UsageError
from diagnose.sources.alerts_export import read_export

LIVE = ("--profile", "local")


def alerts_clear(run: Run) -> tuple[str, str]:
    finding = next(
        f
        for f in run.json()["findings"]
        if f["id"] == "alerts.clear" and f["target"]["kind"] == "learner"
    )
    return finding["status"], finding["message"]


def test_the_exported_sandbox_alerts_fail_learner_107_on_a_live_profile(
    cli: Callable[..., Run],
    loop: str,  # noqa: F811 — the fixture
    tmp_path: Path,
) -> None:
    plain = cli("learner", "107", *LIVE, "--json")
    status, message = alerts_clear(plain)
    assert status == "skip"
    assert "export LRM › Reports › Event Alerts › Xero" in message
    assert "diagnose alerts import FILE" in message

    for name in ("alerts.csv", "alerts.xlsx"):
        path = tmp_path / name
        wrote = cli("sandbox", "export-alerts", str(path))
        assert wrote.code == 0, wrote.err
        run = cli("learner", "107", *LIVE, "--alerts", str(path), "--json")
        assert run.code == 1
        assert alerts_clear(run) == (
            "fail",
            "1 unacknowledged alert: Learner Sync errors: NZCountry unknown",
        )
        assert alerts_clear(cli("learner", "101", *LIVE, "--alerts", str(path), "--json"))[0] == (
            "pass"
        )  # its alert is acknowledged

    kept = cli("alerts", "import", str(tmp_path / "alerts.csv"), *LIVE)
    assert kept.code == 0, kept.err
    assert "kept 2 alerts (1 not acknowledged)" in kept.out
    assert alerts_clear(cli("learner", "107", *LIVE, "--json"))[0] == "fail"
    shown = cli("alerts", "show")
    assert "profile local: 2 alerts, 1 not acknowledged" in shown.out
    assert "STD0000107  Learner Sync errors: NZCountry unknown" in shown.out
    scan = cli("scan", *LIVE, "--json", "--only", "alerts.clear")
    failing = [r for r in scan.json()["findings"] if r["status"] == "fail"]
    assert [r["subject"]["key"] for r in failing] == ["107"], failing


def test_the_kept_alerts_are_shown_within_a_narrow_terminal(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    detail = (
        "The contact with the specified contact details has been archived. The contact must be "
        "un-archived before it can be updated."
    )
    path = tmp_path / "alerts.csv"
    path.write_text(
        "Created On,Alert Type,Alert Details,Related Record,Acknowledged\n"
        f"2026-11-30T15:32:12Z,Learner Sync errors,{detail},STD0000123,No\n"
    )
    assert cli("alerts", "import", str(path)).code == 0
    monkeypatch.setenv("COLUMNS", "60")
    shown = cli("alerts", "show").out
    for line in shown.splitlines():  # a path is never cut in two: the rest fits
        assert len(line) <= 60 or str(path) in line, line
    assert f"STD0000123 Learner Sync errors: {detail}" in " ".join(shown.split())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_csv_in_each_encoding_excel_writes(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "alerts.csv"
    path.write_bytes(
        (
            "Created On,Alert Type,Alert Details,Related Record,Acknowledged\r\n"
            "20/11/2026 3:10 PM,Learner Sync errors,Suburb 'Bérénice' unknown,STD0000107,No\r\n"
        ).encode(encoding)
    )
    (row,) = read_export(path).rows
    assert row["AlertDetails"] == "Suburb 'Bérénice' unknown"
    assert (row["RelatedRecord"], row["Acknowledged"]) == ("STD0000107", False)


def test_headers_are_matched_tolerantly_and_other_columns_noted(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text(
        "Event Alerts - Xero\n"  # a title line above the header
        "Date / Time;Event;Message;Learner;Status;Priority\n"
        "2026-11-20 03:10;Learner Sync errors;NZCountry unknown;STD0000107: Aroha Ngata;Open;High\n"
        "2026-11-21 03:10;Learner Sync errors;Email address must be valid.;106;Acknowledged;Low\n",
        encoding="utf-8",
    )
    export = read_export(path)
    assert [(r["RelatedRecord"], r["Acknowledged"]) for r in export.rows] == [
        ("STD0000107: Aroha Ngata", False),
        ("106", True),
    ]
    assert export.notes == ["ignored column(s) 'Priority'"]


def test_a_record_named_by_learner_id_or_as_code_and_name_ties_to_the_learner(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    path = tmp_path / "alerts.csv"
    path.write_text(
        "Alert Details,Related Record,Acknowledged\n"
        "Postcode is required,105,No\n"
        "Email address must be valid.,STD0000106: Ethan Brown,No\n",
        encoding="utf-8",
    )
    assert alerts_clear(cli("learner", "105", "--alerts", str(path), "--json"))[0] == "fail"
    assert alerts_clear(cli("learner", "106", "--alerts", str(path), "--json"))[0] == "fail"
    assert alerts_clear(cli("learner", "101", "--alerts", str(path), "--json"))[0] == "pass"


def test_a_file_with_no_usable_column_is_refused_in_one_line(
    cli: Callable[..., Run], tmp_path: Path, data_dir: Path
) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text("Invoice,Amount\nINV-1,10.00\n", encoding="utf-8")
    run = cli("alerts", "import", str(path))
    assert run.code == 2
    assert run.err.count("\n") == 1
    assert "has no usable column: expected headers such as 'Created On'" in run.err
    assert not (data_dir / "alerts").exists()
    contacts = tmp_path / "contacts.csv"  # a name, but nothing an alert says
    contacts.write_text("Name,Email\nJane,jane@example.com\n", encoding="utf-8")
    with pytest.raises(UsageError, match="no column for the alert's text"):
        read_export(contacts)
    half = tmp_path / "half.csv"
    half.write_text("Alert Details,Acknowledged\nNZCountry unknown,No\n", encoding="utf-8")
    with pytest.raises(UsageError, match="has no column for its record"):
        read_export(half)
    for bad, why in (
        (tmp_path / "missing.csv", "does not exist"),
        (tmp_path / "empty.csv", "is empty"),
        (tmp_path / "fake.xlsx", "is not a readable Excel workbook"),
    ):
        if bad.name != "missing.csv":
            bad.write_bytes(b"" if bad.name == "empty.csv" else b"PK\x03\x04 not really")
        assert why in cli("learner", "107", "--alerts", str(bad)).err
