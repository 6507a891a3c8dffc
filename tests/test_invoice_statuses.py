"""Invoice statuses and types as Xero has them: what blocks a learner's sync and what does not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import Run


def statuses(run: Run, target: str) -> dict[str, str]:
    return {f["id"]: f["status"] for f in run.json()["findings"] if f["target"]["label"] == target}


def test_a_bill_on_the_learner_s_contact_is_shown_but_blocks_nothing(
    cli: Callable[..., Run],
) -> None:
    learner = cli("learner", "112", "--json")
    assert learner.code == 0
    bill = statuses(learner, "invoice BILL-0112")
    assert bill["invoice.type"] == "warn"
    assert {bill[c] for c in ("invoice.status", "invoice.contact-code", "invoice.in-wisenet")} == {
        "skip"
    }
    asked = cli("invoice", "BILL-0112", "--json")  # asked about the bill itself: that is the answer
    assert asked.code == 1
    assert statuses(asked, "invoice BILL-0112")["invoice.type"] == "fail"


def test_a_deleted_invoice_missing_from_wisenet_is_expected(
    cli: Callable[..., Run],
    demo_tenant: dict[str, Any],
    write_tenant: Callable[[dict[str, Any]], Path],
) -> None:
    invoice = next(i for i in demo_tenant["xero"]["invoices"] if i["InvoiceNumber"] == "INV-0113")
    invoice["Status"] = "DELETED"  # Xero deletes only drafts and submitted invoices
    run = cli("learner", "113", "--sandbox", str(write_tenant(demo_tenant)), "--json")
    assert run.code == 0, run.out
    finding = next(f for f in run.json()["findings"] if f["id"] == "invoice.in-wisenet")
    assert finding["status"] == "pass"
    assert "deleted in Xero before it was approved" in finding["message"]
    assert "Manual Sync" not in (finding["fix"] or "")
