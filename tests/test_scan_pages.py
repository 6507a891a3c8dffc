"""A scan's Wisenet pages: one after another when nothing says how many there are; a few at once
when the kept copy does (a read in full after a write, or `--fresh`) or, on a first scan, once
Xero has counted its contacts; never more calls than a page-by-page read unless the list is
shorter than that said, and a failed page stops the others."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest

from diagnose import scan_fetch
from diagnose.errors import SourceError
from diagnose.model import ProblemKind, Service
from diagnose.sandbox.generate import generate
from diagnose.sources.policy import POLICIES

PAGE = 100  # rows a Wisenet page here: 1,200 learners make 12 full pages and an empty one
LEARNERS = 1200


@pytest.fixture(scope="module")
def tenant_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tenant, _ = generate(LEARNERS, seed=11)
    path = tmp_path_factory.mktemp("pages") / "tenant.json"
    path.write_text(json.dumps(tenant))
    return path


class Watched:
    """The sandbox behind a little latency, counting Wisenet's learner pages: each asked for
    (its `skip`), and the most in flight at once; `refuse` answers one page 400."""

    def __init__(self, core: Any) -> None:
        from diagnose.sandbox.app import create_app

        self.served = create_app(core.box.tenant)
        self.skips: list[int] = []
        self.flying = self.most = 0
        self.refuse: int | None = None
        self.counted: asyncio.Event | None = None  # Xero's first page of contacts answered

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/learnersAU":
            await self.served(scope, receive, send)
            if scope.get("path") == "/api.xro/2.0/Contacts" and self.counted is not None:
                self.counted.set()
            return
        query = dict(p.split("=", 1) for p in scope["query_string"].decode().split("&"))
        skip = int(query["skip"])
        self.skips.append(skip)
        self.flying += 1
        self.most = max(self.most, self.flying)
        try:
            if skip and self.counted is not None:  # Xero counts before Wisenet's second page
                await asyncio.wait_for(self.counted.wait(), 10)
            await asyncio.sleep(0.02)  # as over a network
            if skip == self.refuse:
                await send({"type": "http.response.start", "status": 400, "headers": []})
                await send({"type": "http.response.body", "body": b'{"Message": "no"}'})
                return
            await self.served(scope, receive, send)
        finally:
            self.flying -= 1

    def reset(self) -> None:
        self.skips, self.most = [], 0


@pytest.fixture
def watched(
    tenant_file: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, Watched]:
    from diagnose.core import open_core

    monkeypatch.setattr(scan_fetch, "WISENET_PAGE", PAGE)
    # Wisenet's pace (10 a second) is the policy's to keep, tested on its own: here, no waiting
    wisenet = dataclasses.replace(POLICIES[Service.WISENET], per_second=None)
    monkeypatch.setitem(POLICIES, Service.WISENET, wisenet)
    core = open_core(None, tenant_file)
    watch = Watched(core)
    core.sandbox_app = watch
    return core, watch


def _fetch(core: Any, *, fresh: bool = False, watch: Watched | None = None) -> Any:
    async def fetched() -> Any:
        if watch is not None:
            watch.counted = asyncio.Event()
        try:
            bulk, _, _ = await core.fetch_tenant([], lambda: None, fresh=fresh)
        finally:
            if watch is not None:
                watch.counted = None
        return bulk

    return asyncio.run(fetched())


def _ids(bulk: Any) -> list[str]:
    return [json.dumps(row, sort_keys=True) for row in bulk.learners]


def test_pages_come_one_by_one_until_their_number_is_known(
    watched: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    core, watch = watched
    with monkeypatch.context() as unsaid:
        unsaid.setattr(scan_fetch, "ESTIMATED_BY", {})  # as when Xero's pages have no count
        first = _fetch(core, fresh=True, watch=watch)
    pages = LEARNERS // PAGE + 1  # the last one empty: how a page-by-page read knows the end
    assert watch.skips == [n * PAGE for n in range(pages)]
    assert watch.most == 1  # nothing said how many there would be
    assert len(first.learners) == LEARNERS
    # a write through diagnose: the learners are read in full, their number known
    core.stale("learners")
    watch.reset()
    again = _fetch(core)
    assert sorted(watch.skips) == [n * PAGE for n in range(pages)]  # each page once, no more
    assert 2 <= watch.most <= scan_fetch.AHEAD
    assert _ids(again) == _ids(first)  # in Wisenet's order
    watch.reset()
    _fetch(core, fresh=True)  # --fresh forgets the rows, not how many there were
    assert sorted(watch.skips) == [n * PAGE for n in range(pages)]
    assert watch.most >= 2
    watch.reset()
    _fetch(core)  # only what changed: one page, as before
    assert len(watch.skips) == 1


def test_a_list_that_shrank_costs_at_most_the_pages_asked_ahead(watched: Any) -> None:
    core, watch = watched
    _fetch(core, fresh=True)
    gone = 350
    del core.box.tenant.learners[-gone:]
    core.stale("learners")
    watch.reset()
    shrunk = _fetch(core)
    assert len(shrunk.learners) == LEARNERS - gone
    minimum = (LEARNERS - gone) // PAGE + 1
    assert minimum <= len(watch.skips) <= minimum + scan_fetch.AHEAD - 1
    assert len(set(watch.skips)) == len(watch.skips)


@pytest.mark.parametrize("said", [300, 10**12])
def test_a_wrong_count_in_the_kept_head_costs_no_row(
    watched: Any, said: int, data_dir: Path
) -> None:
    """Fewer rows said than there are: past them, one page after another; a count far too
    big (a damaged head): never more than `AHEAD` pages in flight, and at most `AHEAD` - 1
    asked past the end."""
    core, watch = watched
    _fetch(core, fresh=True)
    head_file = core.scan_folder() / "learners.json"
    head = json.loads(head_file.read_text())
    head_file.write_text(json.dumps({**head, "count": said}))
    watch.reset()
    bulk = _fetch(core, fresh=True)
    assert len(bulk.learners) == LEARNERS
    pages = LEARNERS // PAGE + 1
    assert pages <= len(watch.skips) <= pages + scan_fetch.AHEAD - 1
    assert watch.most <= scan_fetch.AHEAD
    if said < LEARNERS:
        assert watch.skips[-(pages - math.ceil(said / PAGE) - 1) :] == [
            n * PAGE for n in range(said // PAGE + 1, pages)
        ]  # past what was said, one after another


def test_a_failed_page_stops_those_asked_with_it(watched: Any) -> None:
    core, watch = watched
    _fetch(core, fresh=True)
    watch.refuse = 3 * PAGE
    core.stale("learners")
    watch.reset()
    with pytest.raises(SourceError) as failed:
        _fetch(core)
    assert failed.value.problem.kind is ProblemKind.BAD_RESPONSE
    assert max(watch.skips) < 3 * PAGE + scan_fetch.AHEAD * PAGE  # none asked after it failed
    watch.refuse = None
    watch.reset()
    bulk = _fetch(core)  # still to be read in full: the failed read kept nothing
    assert len(bulk.learners) == LEARNERS
    assert watch.most >= 2


@pytest.mark.parametrize("more", [0, -600, 3000])
def test_a_first_scan_asks_ahead_once_xero_has_counted_its_contacts(
    watched: Any, more: int
) -> None:
    """Four fifths of Xero's count of contacts stand for Wisenet's learners until a page is
    short: as many contacts as learners (the generated tenant's, a few under), far fewer (past
    the count, one page after another) or thousands more (at most `AHEAD` - 1 pages more)."""
    core, watch = watched
    contacts = core.box.tenant.contacts
    if more < 0:
        del contacts[more:]
    for n in range(more):  # suppliers and employers: contacts Wisenet never sent
        contacts.append({**contacts[0], "ContactID": f"00000000-0000-4000-8000-{n:012d}"})
        contacts[-1].pop("ContactNumber", None)
    bulk = _fetch(core, fresh=True, watch=watch)
    assert len(bulk.learners) == LEARNERS
    pages = LEARNERS // PAGE + 1
    assert len(set(watch.skips)) == len(watch.skips)  # no page twice
    assert 2 <= watch.most <= scan_fetch.AHEAD
    said = int(len(contacts) * scan_fetch.LIKELY) // PAGE + 1  # pages Xero's count suggests
    if said <= pages:  # no more than a page-by-page read asks
        assert sorted(watch.skips) == [n * PAGE for n in range(pages)]
    else:
        assert pages < len(watch.skips) <= pages + scan_fetch.AHEAD - 1
    if said < pages - 1:  # past what it suggests, one after another
        assert watch.skips[said + 1 :] == [n * PAGE for n in range(said + 1, pages)]
