"""`diagnose scan`: the same verdicts as one diagnosis at a time, from a few paged calls."""

from __future__ import annotations

import asyncio
import csv
import gc
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Run
from harness import FAULTS_ENV

from diagnose.errors import SourceError
from diagnose.model import ProblemKind
from diagnose.sandbox.generate import generate


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    tenant, truth = generate(1500, seed=5)
    path = tmp_path_factory.mktemp("scan") / "tenant.json"
    path.write_text(json.dumps(tenant))
    return path, truth


def test_the_scan_finds_exactly_the_ground_truth(
    cli: Callable[..., Run],
    generated: tuple[Path, dict],  # type: ignore[type-arg]
) -> None:
    path, truth = generated
    collecting = gc.get_threshold()
    run = cli("scan", "--sandbox", str(path), "--json")
    assert run.code == 1
    assert gc.get_threshold() == collecting  # the checks' collection interval is put back
    document = run.json()
    found: dict[str, dict[str, set[str]]] = {"learner": {}, "invoice": {}}
    for f in document["findings"]:
        kind = f["subject"]["kind"]
        key = (
            f["subject"]["key"]
            if kind == "learner"
            else f["subject"]["label"].removeprefix("invoice ")
        )
        found[kind].setdefault(key, {"fail": set(), "warn": set(), "error": set()})[
            f["status"]
        ].add(f["id"])
    for kind, expected in (("learner", truth["learners"]), ("invoice", truth["invoices"])):
        for key, want in expected.items():
            got = found[kind].get(key, {"fail": set(), "warn": set(), "error": set()})
            assert (sorted(got["fail"]), sorted(got["warn"]), got["error"]) == (
                want["fail"],
                want["warn"],
                set(),
            ), (kind, key)
        assert set(found[kind]) <= set(expected)


def test_on_a_terminal_the_scan_says_how_many_learners_it_has_checked(
    cli: Callable[..., Run],
    generated: tuple[Path, dict],  # type: ignore[type-arg]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    path, _ = generated
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "40")
    run = cli("scan", "--sandbox", str(path), "--fresh")
    assert run.code == 1
    counts = [line.strip() for line in run.err.split("\r") if line.startswith("checked")]
    assert counts == [f"checked {n:,} of 1,500 learners" for n in (0, 500, 1000, 1500)]
    assert re.search(r"checked 1,500 of 1,500 learners *\n", run.err)  # ended once done
    written_over = [part for line in run.err.split("\n") for part in line.split("\r")]
    fetched = [part for part in written_over if "pages fetched" in part]
    assert fetched[0].startswith("1 pages fetched, 2 calls made, ")
    assert any(part.endswith("…") for part in fetched)  # cut to fit, never wrapped
    assert max(len(part) for part in written_over) <= 39  # never wrapped, so never left behind


def test_the_scan_makes_no_more_calls_than_paging_needs(
    cli: Callable[..., Run],
    generated: tuple[Path, dict],  # type: ignore[type-arg]
) -> None:
    path, truth = generated
    document = cli("scan", "--sandbox", str(path), "--json").json()
    tenant = json.loads(path.read_text())
    minimum = (
        math.ceil((len(tenant["wisenet"]["learners"]) + 1) / 1000)
        + math.ceil((len(tenant["wisenet"]["invoices"]) + 1) / 1000)
        + math.ceil(len(tenant["xero"]["contacts"]) / 1000)
        + math.ceil(len(tenant["xero"]["invoices"]) / 1000)
        + 1  # /connections
    )
    assert len(document["calls"]) <= minimum + 5
    assert max(c["round"] for c in document["calls"]) == 2
    naive = 7 * len(truth["learners"])
    assert len(document["calls"]) * 100 < naive


def test_the_health_page_and_the_csv(
    cli: Callable[..., Run],
    generated: tuple[Path, dict],
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    path, _ = generated
    out = tmp_path / "findings.csv"
    run = cli("scan", "--sandbox", str(path), "--csv", str(out))
    invoices = len(json.loads(path.read_text())["xero"]["invoices"])
    assert invoices >= 1000  # the counts are written as people read them: 1,500 learners
    assert f"1,500 learners and {invoices:,} Xero invoices checked with" in run.out
    assert "✗ learner.sync-enabled" in run.out
    assert "more (--csv FILE lists them all)" in run.out
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["status"] for r in rows} <= {"fail", "warn", "error"}
    assert any(r["check"] == "contact.duplicates" for r in rows)
    assert f"findings written to {out}" in run.err


def test_a_clean_tenant_scans_clean(
    cli: Callable[..., Run],
    demo_tenant: dict,
    write_tenant: Callable[..., Path],  # type: ignore[type-arg]
) -> None:
    demo_tenant["wisenet"]["learners"] = [
        x for x in demo_tenant["wisenet"]["learners"] if x["LearnerId"] in (101, 117)
    ]
    keep = {"STD0000101", "STD0000117"}
    demo_tenant["xero"]["contacts"] = [
        c for c in demo_tenant["xero"]["contacts"] if c["ContactNumber"] in keep
    ]
    ids = {c["ContactID"] for c in demo_tenant["xero"]["contacts"]}
    demo_tenant["xero"]["invoices"] = [
        i for i in demo_tenant["xero"]["invoices"] if i["Contact"]["ContactID"] in ids
    ]
    run = cli("scan", "--sandbox", str(write_tenant(demo_tenant)))
    assert run.code == 0, run.out
    assert "Nothing blocks the sync anywhere in the tenant." in run.out


def test_only_limits_the_scan_to_the_named_checks(cli: Callable[..., Run]) -> None:
    document = cli("scan", "--json", "--only", "contact.found,invoice.status").json()
    assert {f["id"] for f in document["findings"]} == {"contact.found", "invoice.status"}
    assert cli("scan", "--only", "nope").code == 2


def _calls(run: Run) -> list[dict]:  # type: ignore[type-arg]
    return run.json()["calls"]  # type: ignore[no-any-return]


def _verdicts(run: Run) -> list[tuple[str, str, str]]:
    return sorted((f["id"], f["status"], f["subject"]["label"]) for f in run.json()["findings"])


def test_a_rescan_with_nothing_changed_asks_once_per_resource(
    cli: Callable[..., Run],
    generated: tuple[Path, dict],  # type: ignore[type-arg]
) -> None:
    path, _ = generated
    first = cli("scan", "--sandbox", str(path), "--json")
    again = cli("scan", "--sandbox", str(path), "--json")
    assert len(_calls(again)) <= 5  # learners, Wisenet invoices, connections, contacts, invoices
    assert len(_calls(first)) > len(_calls(again))
    assert _verdicts(again) == _verdicts(first)
    fresh = cli("scan", "--sandbox", str(path), "--json", "--fresh")
    assert len(_calls(fresh)) == len(_calls(first))


def test_a_rescan_with_nothing_changed_runs_no_check_and_says_the_same(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    from diagnose import scan

    first = cli("scan", "--json")

    def no_checks(*args: object, **kwargs: object) -> list[object]:
        raise AssertionError("the checks ran again although nothing changed")

    monkeypatch.setattr(scan, "diagnose_all", no_checks)
    again = cli("scan", "--json")
    assert "no record changed since the last scan" in again.err
    assert again.code == first.code
    assert again.json()["findings"] == first.json()["findings"]
    assert again.json()["summary"] == first.json()["summary"]
    monkeypatch.undo()
    assert cli("resync", "learner", "103", "--yes").code == 0  # a change: the checks run again
    monkeypatch.setattr(scan, "diagnose_all", no_checks)
    assert "the checks ran again" in cli("scan", "--json").err  # would have reused stale ones


def test_a_rescan_sees_what_changed(cli: Callable[..., Run]) -> None:
    before = cli("scan", "--json")
    assert ("learner.sync-enabled", "fail", "learner 103 · Mia Patel · STD0000103") in _verdicts(
        before
    )
    assert cli("resync", "learner", "103", "--yes").code == 0
    after = cli("scan", "--json")
    assert len(_calls(after)) <= 5
    assert (
        "learner.sync-enabled",
        "fail",
        "learner 103 · Mia Patel · STD0000103",
    ) not in _verdicts(after)


def test_an_interrupted_scan_resumes_without_refetching_what_it_has(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    fault = [{"method": "GET", "path": "/api.xro/2.0/Contacts", "status": 503}]
    monkeypatch.setenv(FAULTS_ENV, json.dumps(fault))
    broken = cli("scan")
    assert broken.code == 3
    monkeypatch.delenv(FAULTS_ENV)
    resumed = cli("scan", "--json")
    wisenet = [c for c in _calls(resumed) if c["service"] == "wisenet"]
    assert all("lastModifiedTimeStampFilter" in c["path"] for c in wisenet)  # only what changed
    assert resumed.code == 1


def test_since_checks_only_the_invoices_changed_since(cli: Callable[..., Run]) -> None:
    recent = cli("scan", "--json", "--since", "2026-10-25")
    invoices = {
        f["subject"]["label"]
        for f in recent.json()["findings"]
        if f["subject"]["kind"] == "invoice"
    }
    assert "invoice INV-0110" in invoices  # updated 2026-11-10
    assert "invoice INV-0050" not in invoices  # updated 2026-10-21
    assert cli("scan", "--since", "last tuesday").code == 2


def test_the_scan_writes_a_word_summary(cli: Callable[..., Run], tmp_path: Path) -> None:
    from docx import Document

    out = tmp_path / "health.docx"
    run = cli("scan", "--report", str(out))
    assert run.code == 1
    assert f"sync health written to {out}" in run.err
    document = Document(str(out))
    text = "\n".join(p.text for p in document.paragraphs)
    assert text.startswith("Sync health report: Demo RTO Pty Ltd")
    assert "contact.found: 5 records (expected: A Xero contact carries the learner's Contact" in (
        text
    )
    # records share a fix only when it is the same: the GDPR contact gets its own
    assert text.count("How to fix it: In Xero open Contacts › All contacts › Archived, open") == 2
    assert "How to fix it: Ask the Xero administrator whether the erasure request stands" in text
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert "learner 104 · Noah · STD0000104" in cells


def test_the_health_page_counts_records_and_gives_each_its_own_fix(cli: Callable[..., Run]) -> None:
    run = cli("scan")
    assert "✗ contact.active           3 learners\n" in run.out
    assert "✗ learner.full-name        1 learner\n" in run.out
    section = run.out.split("contact.active (expected: The Xero contact is active)")[1]
    section = section.split("\n\n")[0]
    fixes = [line for line in section.splitlines() if line.startswith("  Fix: ")]
    assert len(fixes) == 3  # Liam's restore, the GDPR question, Jane's restore: none shared
    assert "open Liam O'Connor and choose Restore" in fixes[0]
    assert "erasure request" in fixes[1]
    assert "The Xero contact is active\n" not in run.out.split("\n\n")[1]  # never beside a ✗


def _served(path: Path) -> tuple[Any, Any]:
    """The sandbox core of a generated tenant, and its app for a test to stand in front of."""
    from diagnose.core import open_core
    from diagnose.sandbox.app import create_app

    core = open_core(None, path)
    assert core.box is not None
    return core, create_app(core.box.tenant)


def test_xero_pages_after_the_first_are_asked_for_together(
    generated: tuple[Path, dict],  # type: ignore[type-arg]
    data_dir: Path,
) -> None:
    core, served = _served(generated[0])
    flying, most = [0], [0]

    async def watched(scope: Any, receive: Any, send: Any) -> None:
        pages = scope["type"] == "http" and scope["path"] == "/api.xro/2.0/Invoices"
        if pages:
            flying[0] += 1
            most[0] = max(most[0], flying[0])
            await asyncio.sleep(0.05)  # a little latency, as over a network
        try:
            await served(scope, receive, send)
        finally:
            flying[0] -= pages

    core.sandbox_app = watched
    log: list[Any] = []
    bulk, _, _ = asyncio.run(core.fetch_tenant(log, lambda: None, fresh=True))
    invoices = len(core.box.tenant.invoices)
    assert len(bulk.invoices) == invoices  # every page, each once
    asked = [c for c in log if c.path.startswith("/api.xro/2.0/Invoices")]
    assert len(asked) == math.ceil(invoices / 1000)  # the paging minimum
    assert 2 <= most[0] <= 5  # together, within Xero's 5 at once


def test_xeros_pages_do_not_wait_for_wisenets(
    generated: tuple[Path, dict],  # type: ignore[type-arg]
    data_dir: Path,
) -> None:
    core, served = _served(generated[0])
    asked: list[str] = []

    async def slow_wisenet(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            asked.append(scope["path"])
            if scope["path"].startswith("/v1/"):
                await asyncio.sleep(0.05)  # Wisenet answers slowly; its pages come one by one
        await served(scope, receive, send)

    core.sandbox_app = slow_wisenet
    log: list[Any] = []
    bulk, _, _ = asyncio.run(core.fetch_tenant(log, lambda: None, fresh=True))
    assert len(bulk.learners) == len(core.box.tenant.learners)
    last_wisenet = max(n for n, path in enumerate(asked) if path.startswith("/v1/"))
    first_xero_page = min(n for n, path in enumerate(asked) if path.startswith("/api.xro/2.0/"))
    assert first_xero_page < last_wisenet
    rounds = {(c.service.value, c.path.startswith("/api.xro/2.0/"), c.round) for c in log}
    assert rounds == {("wisenet", False, 1), ("xero", False, 1), ("xero", True, 2)}


def test_a_refused_sign_in_ends_the_scan_at_once(
    generated: tuple[Path, dict],  # type: ignore[type-arg]
    data_dir: Path,
) -> None:
    """Xero refusing the sign-in is said at once, not after Wisenet's last page: the person has
    to put it right before any scan can end."""
    core, served = _served(generated[0])
    wisenet_pages = [0]

    async def refusing_xero(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/connections":
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            wisenet_pages[0] += 1
            await asyncio.sleep(0.2)  # Wisenet answers slowly; its pages come one by one
        await served(scope, receive, send)

    core.sandbox_app = refusing_xero
    with pytest.raises(SourceError) as refused:
        asyncio.run(core.fetch_tenant([], lambda: None, fresh=True))
    assert refused.value.problem.kind is ProblemKind.AUTH
    tab_pages = math.ceil(len(core.box.tenant.wisenet_invoices) / 1000)
    assert wisenet_pages[0] < tab_pages  # Wisenet's invoices were still coming


def test_without_a_page_count_every_page_is_read_until_an_empty_one(
    generated: tuple[Path, dict],  # type: ignore[type-arg]
    data_dir: Path,
) -> None:
    core, served = _served(generated[0])

    async def uncounted(scope: Any, receive: Any, send: Any) -> None:
        """Xero's pages with no `pagination`, and at most 400 rows a page whatever was asked."""
        if scope["type"] != "http" or scope["path"] != "/api.xro/2.0/Invoices":
            await served(scope, receive, send)
            return
        query = scope["query_string"].decode().replace("pageSize=1000", "pageSize=400")
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await served({**scope, "query_string": query.encode()}, receive, keep)
        body = json.loads(b"".join(chunks))
        body.pop("pagination", None)
        raw = json.dumps(body).encode()
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(raw)).encode())]})
        await send({"type": "http.response.body", "body": raw})

    core.sandbox_app = uncounted
    log: list[Any] = []
    bulk, _, _ = asyncio.run(core.fetch_tenant(log, lambda: None, fresh=True))
    assert len(bulk.invoices) == len(core.box.tenant.invoices)  # short pages are not the last


def test_the_health_page_fits_a_narrow_terminal(
    cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    run = cli("scan")
    assert "contact.active (expected: The Xero contact is active)" in run.out
    assert [line for line in run.out.splitlines() if len(line) > 60] == []
