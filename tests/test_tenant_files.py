"""A tenant file written by someone else, in the DESIGN.md format with real payload shapes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import Run

EXAMPLE = Path(__file__).parent / "data" / "design_example_tenant.json"


def _statuses(run: Run) -> dict[str, str]:
    return {f"{f['target']['label']}|{f['id']}": f["status"] for f in run.json()["findings"]}


def test_the_design_example_tenant_diagnoses_correctly(cli: Callable[..., Run]) -> None:
    run = cli("learner", "123", "--sandbox", str(EXAMPLE), "--json")
    doc = run.json()
    assert doc["tenant"] == "Example College Pty Ltd"
    failing = {f["id"] for f in doc["findings"] if f["status"] == "fail"}
    assert failing == {
        "learner.sync-enabled",
        "contact.active",
        "invoice.status",  # DRAFT
        "invoice.contact-merged",  # raised on the archived contact
        "alerts.clear",  # "NZCountry unknown", unacknowledged
    }
    warning = {f["id"] for f in doc["findings"] if f["status"] == "warn"}
    assert warning == {"contact.in-sync"}  # the archived contact has no street address
    assert not [f for f in doc["findings"] if f["status"] == "error"]
    statuses = _statuses(run)
    assert statuses["invoice INV-0001|invoice.in-wisenet"] == "skip"  # a draft never gets there
    assert run.code == 1


def test_a_learner_given_as_a_data_and_relationships_item(cli: Callable[..., Run]) -> None:
    run = cli("learner", "STD0000124", "--sandbox", str(EXAMPLE), "--json")
    assert run.code == 0, run.out
    assert all(f["status"] in ("pass", "skip") for f in run.json()["findings"])


def test_the_invoice_leads_back_to_its_learner(cli: Callable[..., Run]) -> None:
    run = cli("invoice", "INV-0001", "--sandbox", str(EXAMPLE), "--json")
    labels = {f["target"]["label"] for f in run.json()["findings"]}
    assert "learner 123 · Sam Reyes · STD0000123" in labels
