"""A scan that Xero's calls a day could not see through is not started past its first pages:
the day's calls stay for single diagnoses, and what was fetched is kept for the next scan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Run
from test_profiles import SECRET_ENV, write_config
from test_serve import served

from diagnose import scan_fetch

PAGE = 5  # Xero rows a page here: the demo's 15 invoices and its contacts make a few pages


def xero_pages(base: str) -> list[str]:
    asked = httpx.get(f"{base}/_sandbox/requests").json()
    return [r["path"] for r in asked if r["path"].startswith("/api.xro/2.0/")]


@pytest.fixture
def live(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str], Run]:
    """A scan through the live profile `local`, pointed at the server at `base`."""
    monkeypatch.setattr(scan_fetch, "XERO_PAGE", PAGE)
    for key, value in SECRET_ENV.items():
        monkeypatch.setenv(key, value)

    def scan(base: str) -> Run:
        monkeypatch.setenv("DIAGNOSE_CONFIG", str(write_config(tmp_path, base)))
        return cli("scan", "--profile", "local")

    return scan


def test_a_scan_the_day_cannot_hold_stops_after_its_first_pages(
    live: Callable[[str], Run], data_dir: Path
) -> None:
    with served(data_dir, "--rate-limit", "xero=4/day") as base:
        run = live(base)
        asked = xero_pages(base)
    assert run.code == 4, run.err
    said = run.err.strip().splitlines()[-1]
    assert "more pages to ask of this organisation and Xero allows 2 more calls today" in said
    assert sorted(asked) == sorted(  # the two first pages, nothing after them
        f"/api.xro/2.0/{c}" for c in ("Contacts", "Invoices")
    )
    with served(data_dir) as base:  # the next day
        again = live(base)
        wisenet: list[Any] = [
            r for r in httpx.get(f"{base}/_sandbox/requests").json() if r["path"].startswith("/v1/")
        ]
    assert again.code == 1, again.err  # the demo's findings
    assert "learners and 15 Xero invoices checked" in again.out
    # Wisenet's records were kept from the refused scan: only what changed is asked for
    assert all("lastModifiedTimeStampFilter" in r.get("query", "") for r in wisenet), wisenet


def test_a_scan_the_day_can_hold_goes_ahead(live: Callable[[str], Run], data_dir: Path) -> None:
    with served(data_dir, "--rate-limit", "xero=40/day") as base:
        run = live(base)
        asked = xero_pages(base)
    assert run.code == 1, run.err
    assert len(asked) > 2  # every page
