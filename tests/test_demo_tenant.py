"""The README's demo tables are the contract: each demo learner and invoice fails exactly the checks
its row names, warns exactly where it says, and passes or skips the rest — never an error."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from conftest import ROOT, Run

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _table(marker: str) -> list[list[str]]:
    block = README.split(f"<!-- {marker} -->")[1].split(f"<!-- /{marker} -->")[0]
    rows = [line for line in block.strip().splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def _ids(cell: str) -> set[str]:
    return set(re.findall(r"`([a-z]+\.[a-z-]+)`", cell))


LEARNERS = [(row[0], _ids(row[3]), _ids(row[4])) for row in _table("demo-learners")]
INVOICES = [(row[0], _ids(row[2])) for row in _table("demo-invoices")]


def _by_status(run: Run, status: str) -> set[str]:
    return {f["id"] for f in run.json()["findings"] if f["status"] == status}


def test_the_tables_cover_every_failure_mode_the_issue_names() -> None:
    assert len(LEARNERS) >= 15
    failing = set().union(*(fails for _, fails, _ in LEARNERS))
    assert {
        "contact.active",
        "learner.sync-enabled",
        "learner.full-name",
        "learner.address",
        "learner.email",
        "learner.field-mapping",
        "contact.found",
        "contact.duplicates",
        "invoice.status",
        "invoice.in-wisenet",
    } <= failing
    # a bill fails invoice.type when it is asked about; from its learner's side it only warns
    assert "invoice.type" in set().union(*(fails for _, fails in INVOICES))
    assert any(not fails and not warns for _, fails, warns in LEARNERS)
    assert len(dict((lid, f) for lid, f, _ in LEARNERS)["123"]) >= 2


@pytest.mark.parametrize(("learner_id", "fails", "warns"), LEARNERS)
def test_demo_learner(
    cli: Callable[..., Run], learner_id: str, fails: set[str], warns: set[str]
) -> None:
    run = cli("learner", learner_id, "--json")
    assert _by_status(run, "fail") == fails
    assert _by_status(run, "warn") == warns
    assert _by_status(run, "error") == set()
    assert run.code == (1 if fails else 0)
    calls = run.json()["calls"]
    duplicates = next(f for f in run.json()["findings"] if f["id"] == "contact.duplicates")
    lookalikes = bool(duplicates["evidence"].get("contacts"))
    # a third round, of one call, only to read the invoices of look-alike contacts
    assert len(calls) <= (8 if lookalikes else 7)
    assert max(c["round"] for c in calls) <= (3 if lookalikes else 2)


@pytest.mark.parametrize(("number", "fails"), INVOICES)
def test_demo_invoice(cli: Callable[..., Run], number: str, fails: set[str]) -> None:
    run = cli("invoice", number, "--json")
    assert _by_status(run, "fail") == fails
    assert _by_status(run, "error") == set()
    invoice_targets = {
        f["target"]["label"] for f in run.json()["findings"] if f["id"] == "invoice.found"
    }
    assert invoice_targets == {f"invoice {number}"}


def test_the_readme_sample_output_is_what_learner_123_prints(cli: Callable[..., Run]) -> None:
    sample = README.split("## What it shows")[1].split("```text")[1].split("```")[0]
    out = cli("learner", "123").out  # as a 100-column terminal shows it (not a terminal: 100)
    for line in sample.splitlines():
        if line.lstrip().startswith(("✗", "!", "→", "Fix:")) or line.startswith("learner"):
            assert line.split(" · checked")[0] in out, line
