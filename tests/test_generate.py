"""`diagnose sandbox generate`: the ground truth it writes is what diagnose finds."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import Run

from diagnose.sandbox.generate import generate


@pytest.fixture(scope="module")
def generated(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, dict[str, dict[str, list[str]]]]]:
    tenant, truth = generate(60, seed=3)
    path = tmp_path_factory.mktemp("generated") / "tenant.json"
    path.write_text(json.dumps(tenant))
    return path, truth


def _found(run: Run, kind: str) -> tuple[list[str], list[str]]:
    mine = [f for f in run.json()["findings"] if f["target"]["kind"] == kind]
    return (
        sorted({f["id"] for f in mine if f["status"] == "fail"}),
        sorted({f["id"] for f in mine if f["status"] == "warn"}),
    )


def test_every_generated_learner_fails_what_its_truth_says(
    cli: Callable[..., Run], generated: tuple[Path, dict[str, dict[str, dict[str, list[str]]]]]
) -> None:
    path, truth = generated
    wrong = {}
    for learner_id, expected in truth["learners"].items():
        run = cli("learner", learner_id, "--sandbox", str(path), "--json")
        fails, warns = _found(run, "learner")
        if (fails, warns) != (expected["fail"], expected["warn"]):
            wrong[learner_id] = (fails, warns, expected)
    assert wrong == {}


def test_every_generated_invoice_fails_what_its_truth_says(
    cli: Callable[..., Run], generated: tuple[Path, dict[str, dict[str, dict[str, list[str]]]]]
) -> None:
    path, truth = generated
    wrong = {}
    for number, expected in truth["invoices"].items():
        fails, warns = _found(cli("invoice", number, "--sandbox", str(path), "--json"), "invoice")
        if (fails, warns) != (expected["fail"], expected["warn"]):
            wrong[number] = (fails, warns, expected)
    assert wrong == {}


def test_the_modes_come_at_realistic_rates() -> None:
    _, truth = generate(2000, seed=11)
    learners = truth["learners"].values()
    fine = sum(1 for t in learners if not t["fail"] and not t["warn"])
    assert 0.6 < fine / 2000 < 0.8
    failing = {check for t in learners for check in t["fail"]}
    assert {
        "learner.sync-enabled",
        "contact.active",
        "contact.found",
        "contact.duplicates",
    } <= failing


def test_generate_writes_the_tenant_and_its_truth(cli: Callable[..., Run], tmp_path: Path) -> None:
    out = tmp_path / "big.json"
    run = cli("sandbox", "generate", "--learners", "25", "--seed", "2", "-o", str(out))
    assert run.code == 0
    assert json.loads(out.read_text())["format"] == "diagnose-tenant/1"
    assert len(json.loads((tmp_path / "big.truth.json").read_text())["learners"]) == 25
    assert cli("sandbox", "generate", "--learners", "0", "-o", str(out)).code == 2
