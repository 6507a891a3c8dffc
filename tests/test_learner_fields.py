"""The learner's fields as Xero and the integration see them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Run


def personal(tenant: dict[str, Any], learner_id: int) -> dict[str, Any]:
    item = next(x for x in tenant["wisenet"]["learners"] if x["LearnerId"] == learner_id)
    return item["Personal"]  # type: ignore[no-any-return]


def finding(run: Run, check_id: str) -> dict[str, Any]:
    return next(f for f in run.json()["findings"] if f["id"] == check_id)


@pytest.mark.parametrize(
    ("change", "check_id", "words"),
    [
        ({"FirstName": "A" * 256}, "learner.full-name", "first name is 256 characters"),
        (
            {"StreetAddress": {"Postcode": "２０００"}},
            "learner.address",
            "is not four digits (0-9)",
        ),
        (
            {"StreetAddress": {"StreetNumber": "", "StreetName": ""}},
            "learner.address",
            "the street address has no street",
        ),
    ],
)
def test_what_xero_or_the_integration_would_refuse_fails(
    cli: Callable[..., Run],
    demo_tenant: dict[str, Any],
    write_tenant: Callable[[dict[str, Any]], Path],
    change: dict[str, Any],
    check_id: str,
    words: str,
) -> None:
    fields = personal(demo_tenant, 101)
    for key, value in change.items():
        if isinstance(value, dict):
            fields[key].update(value)
        else:
            fields[key] = value
    run = cli("learner", "101", "--sandbox", str(write_tenant(demo_tenant)), "--json")
    assert finding(run, check_id)["status"] == "fail"
    assert words in finding(run, check_id)["message"]


def test_a_learner_with_a_unit_line_syncs_and_the_wait_sees_it(
    cli: Callable[..., Run],
    demo_tenant: dict[str, Any],
    write_tenant: Callable[[dict[str, Any]], Path],
) -> None:
    personal(demo_tenant, 103)["StreetAddress"].update(UnitDetails="Unit 4", BuildingName="Tower B")
    path = str(write_tenant(demo_tenant))
    run = cli("resync", "learner", "103", "--sandbox", path, "--yes", "--wait", "1m")
    assert run.code == 0, run.out + run.err
    assert "learner 103: synced" in run.out
    after = cli("learner", "103", "--sandbox", path, "--json")
    assert finding(after, "contact.in-sync")["status"] == "pass"
