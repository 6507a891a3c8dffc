"""Shared helpers: run the real CLI entry point in-process, and build domain records by hand."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from harness import install

from diagnose.cli import main
from diagnose.model import Address, Country, Learner, State, XeroContact, XeroInvoice
from diagnose.sandbox import demo_tenant_path

ROOT = Path(__file__).resolve().parent.parent


FIGURES: dict[str, str] = {}  # what the reliability tests measured, printed after the run


def pytest_sessionfinish(session: Any) -> None:
    """A test worker (pytest-xdist) hands what its tests measured to the controller."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["figures"] = json.dumps(FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """The controller gathers every worker's figures, to print them once at the end."""
    FIGURES.update(json.loads(getattr(node, "workeroutput", {}).get("figures", "{}")))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, line in FIGURES.items():
            terminalreporter.write_line(f"{name}: {line}")


def read_to_the_end(fd: int) -> bytes:
    """Everything a program at a terminal (`pty.fork`) writes until it closes its side."""
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child's side is gone (Linux says so with EIO)
            break
        if not chunk:
            break
        out += chunk
    return out


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture(scope="session", autouse=True)
def _session_data_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Never the real user data folder, not even for module-scoped fixtures."""
    import os

    os.environ["DIAGNOSE_DATA_DIR"] = str(tmp_path_factory.mktemp("session-data"))
    os.environ["DIAGNOSE_CACHE_DIR"] = str(tmp_path_factory.mktemp("session-cache"))
    # the text's width, whatever terminal (or test worker) runs the tests: a test that is about
    # the width sets its own
    os.environ["COLUMNS"] = "100"


@pytest.fixture(autouse=True)
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The HTTP policy's waits, recorded instead of slept: retries cost the tests no time, and
    the clock of the budget shared between processes moves on by them as if they were slept."""
    import time

    from diagnose.sources import policy

    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(policy, "pause", record)
    monkeypatch.setattr(policy, "wall_clock", lambda: time.time() + sum(waited))
    return waited


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own user data folder: journal, audit log, sandbox working copies."""
    folder = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("DIAGNOSE_DATA_DIR", str(folder))
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(folder / "cache"))
    return folder


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """Run `diagnose ARGS…` through the console-script entry point, as a user would."""
    monkeypatch.delenv("DIAGNOSE_SANDBOX", raising=False)
    monkeypatch.delenv("DIAGNOSE_DEBUG", raising=False)

    def run(*args: str) -> Run:
        install(monkeypatch)  # the faults and failpoint a test named, as the harness puts them
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["diagnose", *args])
        with pytest.raises(SystemExit) as exit_info:
            main()
        captured = capsys.readouterr()
        code = exit_info.value.code
        return Run(code if isinstance(code, int) else 0, captured.out, captured.err)

    return run


@pytest.fixture
def demo_tenant() -> dict[str, Any]:
    """A fresh copy of the built-in demo tenant, to change and write to a file."""
    return json.loads(demo_tenant_path().read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture
def write_tenant(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    def write(tenant: dict[str, Any]) -> Path:
        path = tmp_path / "tenant.json"
        path.write_text(json.dumps(tenant), encoding="utf-8")
        return path

    return write


NSW = State(1, "01", "NSW", "New South Wales")
VIC = State(2, "02", "VIC", "Victoria")
AUSTRALIA = Country(1101, "1101", "Australia")


def make_learner(**changes: Any) -> Learner:
    learner = Learner(
        learner_id=123,
        learner_number="STD0000123",
        first_name="Jane",
        last_name="Citizen",
        email="jane.citizen@example.com",
        sync_to_xero=True,
        street=Address(
            street_number="42",
            street_name="Wallaby Way",
            suburb="Sydney",
            state_id=1,
            postcode="2000",
            country_id=1101,
        ),
        states={1: NSW, 2: VIC},
        countries={1101: AUSTRALIA},
    )
    return replace(learner, **changes)


def make_address(**changes: Any) -> Address:
    return replace(make_learner().street, **changes)


def make_contact(**changes: Any) -> XeroContact:
    from diagnose.model import XeroAddress

    contact = XeroContact(
        contact_id="11111111-1111-1111-1111-111111111111",
        contact_number="STD0000123",
        status="ACTIVE",
        name="Jane Citizen",
        first_name="Jane",
        last_name="Citizen",
        email="jane.citizen@example.com",
        addresses=(
            XeroAddress("POBOX"),
            XeroAddress("STREET", "42 Wallaby Way", "", "Sydney", "NSW", "2000", "Australia"),
        ),
    )
    return replace(contact, **changes)


def make_invoice(**changes: Any) -> XeroInvoice:
    invoice = XeroInvoice(
        invoice_id="22222222-2222-2222-2222-222222222222",
        number="INV-0042",
        type="ACCREC",
        status="AUTHORISED",
        contact_id="11111111-1111-1111-1111-111111111111",
        contact_name="Jane Citizen",
        contact_number=None,
        total=1850.0,
    )
    return replace(invoice, **changes)
