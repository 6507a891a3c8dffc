"""A scan's fetch: every page of the four resources a scan reads — Wisenet learners and
invoices, Xero contacts (archived included) and invoices, each paged with the largest page the
service serves — written to disk as they come (`scan_rows`) and kept between scans
(`scan_cache`), so that the next scan asks only for what changed. The two services are read side
by side."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from diagnose import parse
from diagnose.errors import SourceError
from diagnose.gather import organisation, unconnected
from diagnose.model import Problem, ProblemKind, Service
from diagnose.msdate import parse_datetime
from diagnose.scan_cache import KEYS, RESOURCES, Cache, wisenet_stamp, xero_stamp
from diagnose.scan_rows import Rows
from diagnose.sources.both import Sources
from diagnose.sources.bulk import Bulk
from diagnose.sources.calls import ROUND, CallLog, a_list, envelope

WISENET_PAGE = 1000
XERO_PAGE = 1000
AHEAD = 5  # Wisenet pages asked at once when there are known to be more: at 10 a second,
# enough to keep it busy whatever its latency up to half a second
LIKELY = 0.8  # of Xero's count, what Wisenet's list is taken to hold at least (Xero has more:
# suppliers, bills, contacts and invoices Wisenet never knew)
ESTIMATED_BY = {"contacts": "learners", "invoices": "wisenet_invoices"}  # Xero's for Wisenet's


SETTINGS = (ProblemKind.AUTH, ProblemKind.WRONG_ADDRESS)  # what the person must put right first


async def _side_by_side(*parts: Coroutine[Any, Any, None]) -> None:
    """Run `parts` together. When one fails as a service can (an outage, a limit, a bad answer),
    the others go on to their end, so that what they fetch is kept for the next scan, and then
    that failure is raised. A refused sign-in, a wrong address or anything else is raised at
    once, the others stopped: the person has something to put right before any scan can end."""
    running = [asyncio.ensure_future(part) for part in parts]
    first: SourceError | None = None
    try:
        for ended in asyncio.as_completed(running):
            try:
                await ended
            except SourceError as exc:
                if exc.problem.kind in SETTINGS:
                    raise
                first = first or exc
    finally:
        for task in running:
            task.cancel()  # those still running, when one failed at once
        await asyncio.gather(*running, return_exceptions=True)
    if first is not None:
        raise first


async def _all_or_none(parts: list[Coroutine[Any, Any, None]]) -> None:
    """Run `parts` together; when one fails, the others are stopped (their answers could not
    be used) and its error is raised."""
    running = [asyncio.ensure_future(part) for part in parts]
    try:
        await asyncio.gather(*running)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


class _DayLimit:
    """Xero's calls a day, against what the reads of its collections still have to ask. Once
    every collection's first page is in — each says how many pages it has, and Xero how many
    calls it allows today (`X-DayLimit-Remaining`) — the rest are asked only if they fit: a scan
    that could not finish would spend the day's calls on nothing, and leave none for the single
    diagnoses."""

    def __init__(self, log: CallLog, collections: int) -> None:
        self.log = log
        self.waiting = collections
        self.needed = 0
        self.decided = asyncio.Event()
        self.refusal: SourceError | None = None

    def known(self, pages: int) -> None:
        """A collection's first page is in, `pages` more to ask (0: none, unknown, or failed)."""
        self.needed += pages
        self.waiting -= 1
        if self.waiting:
            return
        left = [
            c.day_remaining
            for c in self.log.calls
            if c.service is Service.XERO and c.day_remaining is not None
        ]
        if left and self.needed > min(left):
            why = (
                f"Xero: the scan has {self.needed} more pages to ask of this organisation and "
                f"Xero allows {min(left)} more calls today (its day limit): they were not asked, "
                "so today's calls stay for single diagnoses. Scan again when Xero's day has "
                "passed (what was fetched is kept)"
            )
            self.refusal = SourceError(Problem(Service.XERO, ProblemKind.RATE_LIMITED, why))
        self.decided.set()

    async def go_ahead(self) -> None:
        await self.decided.wait()
        if self.refusal is not None:
            raise self.refusal


def _refused(exc: SourceError) -> bool:
    """A 400 on an incremental call: the service would not take the filter."""
    return exc.problem.kind is ProblemKind.BAD_RESPONSE and "HTTP 400" in exc.problem.message


@dataclass
class _Pages:
    """How a scan fetches a resource's pages: from `sources`, counting each (`tick`), each page
    written to disk as it comes, in the folder of `cache`."""

    sources: Sources
    tick: Callable[[], None]
    cache: Cache
    # a Wisenet list's rows as Xero's count of the matching records suggests, once it is in
    estimates: dict[str, asyncio.Future[int]] = field(default_factory=dict)

    async def wisenet(self, path: str, resource: str, since: datetime | None) -> Rows:
        """Every page of a Wisenet list, until one is short. Wisenet says nothing of how many
        there are. When the kept copy says how many rows there were — or, on a first scan,
        once Xero's first page has said how many records it holds of the kind (`estimates`:
        four fifths of its contacts for the learners, of its invoices for Wisenet's copy of
        them) — the pages those rows fill are asked for a few ahead (`AHEAD`, within Wisenet's
        pace), and past them one after another, as they are when nothing is known, or only
        what changed is asked for. So no page is asked for that a page-by-page read would not ask
        for, unless the list is shorter than that (then at most `AHEAD` - 1 more)."""
        extra = {"lastModifiedTimeStampFilter": f"gt:{wisenet_stamp(since)}"} if since else {}
        try:
            return await self._wisenet_pages(path, resource, extra)
        except SourceError as exc:
            if not (extra and _refused(exc)):
                raise
            return await self._wisenet_pages(path, resource, {})  # refused: fetch it all

    async def _wisenet_pages(self, path: str, resource: str, extra: dict[str, str]) -> Rows:
        into = self.cache.writer(resource)
        known = 0 if extra else self.cache.sizes.get(resource, 0)
        ahead = known // WISENET_PAGE + 1 if known else 0  # pages the known rows need
        estimate = None if extra or known else self.estimates.get(resource)

        async def page_at(number: int) -> list[Any]:
            page = await self.sources.wisenet.session.get(
                path,
                params={"skip": number * WISENET_PAGE, "take": WISENET_PAGE, **extra},
                shape=a_list,
            )
            self.tick()
            return page or []

        asked: dict[int, asyncio.Future[list[Any]]] = {}
        turn = 0  # the page written next
        try:
            while True:
                if estimate is not None and estimate.done():
                    ahead = max(ahead, estimate.result() // WISENET_PAGE + 1)
                    estimate = None
                while turn + len(asked) < max(turn + 1, min(ahead, turn + AHEAD)):
                    number = turn + len(asked)
                    asked[number] = asyncio.ensure_future(page_at(number))
                page = await asked.pop(turn)
                into.add(page, KEYS[resource])
                if len(page) < WISENET_PAGE:
                    return into.done()
                turn += 1
        finally:  # a failed page, or a short one before those asked ahead: they are not needed
            for left in asked.values():
                left.cancel()
            await asyncio.gather(*asked.values(), return_exceptions=True)

    async def xero(
        self,
        path: str,
        resource: str,
        since: datetime | None,
        day: _DayLimit | None = None,
        **params: Any,
    ) -> Rows:
        """Every page of a Xero collection. The first page says how many there are
        (`pagination`); the rest are asked for together, within the session's limits (5 at
        once, 60 a minute) and, with `day`, only if Xero allows them today; written in page
        order as they come."""
        collection = path.rsplit("/", 1)[-1]
        xero = self.sources.xero
        headers = {"xero-tenant-id": xero.tenant_id or ""}
        if since is not None:
            headers["If-Modified-Since"] = xero_stamp(since)
        into = self.cache.writer(resource)

        async def page_of(number: int) -> tuple[list[Any], int | None]:  # rows, pages
            body = await xero.session.get(
                f"/api.xro/2.0{path}",
                params={**params, "page": number, "pageSize": XERO_PAGE},
                headers=headers,
                shape=envelope(collection),
            )
            self.tick()
            found = body.get(collection, []) if isinstance(body, Mapping) else []
            pagination = body.get("pagination") if isinstance(body, Mapping) else None
            if not isinstance(pagination, Mapping):
                return list(found), None
            count, items = pagination.get("pageCount"), pagination.get("itemCount")
            if number == 1 and since is None and isinstance(items, int):
                self._estimate(ESTIMATED_BY.get(resource), items)
            return list(found), count if isinstance(count, int) else None

        try:
            try:
                rows, count = await page_of(1)
            except SourceError as exc:
                if "If-Modified-Since" not in headers or not _refused(exc):
                    raise
                del headers["If-Modified-Since"]  # refused: fetch it all instead
                rows, count = await page_of(1)
        except BaseException:
            if day is not None:
                day.known(0)  # the other collection does not wait for this one
            raise
        into.add(rows, KEYS[resource])
        if day is not None:
            day.known(max(0, count - 1) if count else 0)
            await day.go_ahead()
        if count is not None:  # the rest together, written in page order as each one's turn comes
            waiting: dict[int, list[Any]] = {}
            turn = 2

            async def written(number: int) -> None:
                nonlocal turn
                waiting[number], _ = await page_of(number)
                while turn in waiting:
                    into.add(waiting.pop(turn), KEYS[resource])
                    turn += 1

            await _all_or_none([written(n) for n in range(2, count + 1)])
            return into.done()
        # No count given: one page after another until an empty one (a page shorter than asked
        # for is no sign of the last: a service may serve fewer rows a page than it was asked).
        number = 1
        while rows:
            number += 1
            rows, _ = await page_of(number)
            into.add(rows, KEYS[resource])
        return into.done()

    def _estimate(self, resource: str | None, count: int) -> None:
        """Xero holds `count` records of the kind Wisenet's `resource` mirrors (all of them)."""
        waiting = self.estimates.get(resource or "")
        if waiting is not None and not waiting.done():
            waiting.set_result(int(max(0, count) * LIKELY))


async def fetch(
    sources: Sources,
    tick: Callable[[], None] = lambda: None,
    *,
    cache: Cache | None = None,
    invoices_since: datetime | None = None,
) -> Bulk:
    """Everything: Wisenet's pages (round 1), and beside them the organisation (round 1), then
    Xero's pages (round 2) — Xero does not wait for Wisenet. Each page is written to disk as it
    comes (`Rows`), and each service's resources are kept in the cache when they are in, even if
    the other service fails. With a cache, only what changed since each resource was last
    fetched."""
    cache = cache or Cache(None)
    loop = asyncio.get_running_loop()
    estimates = {name: loop.create_future() for name in ESTIMATED_BY.values()}
    pages = _Pages(sources, tick, cache, estimates)
    started = datetime.now(UTC)
    bulk = Bulk(alerts=sources.alerts)
    sources.log.round = 1

    async def wisenet() -> None:
        flavour = sources.wisenet.learners_path
        learners, tab = await asyncio.gather(
            pages.wisenet(flavour, "learners", cache.since("learners")),
            pages.wisenet("/invoices", "wisenet_invoices", cache.since("wisenet_invoices")),
        )
        bulk.learners = cache.merge("learners", learners, started)
        bulk.wisenet_invoices = cache.merge("wisenet_invoices", tab, started)
        # what did not change is not written again (its older time of fetching only makes the
        # next scan ask for a little more)
        cache.save(*cache.to_save("learners", "wisenet_invoices"))

    async def xero() -> None:
        bulk.connections = await sources.xero.connections()
        if (wrong := unconnected(bulk.connections, sources)) is not None:
            raise wrong  # named, not connected: every page would be refused
        if not sources.xero.tenant_id:
            chosen = organisation(bulk.connections, None)
            sources.xero.tenant_id = parse.text(chosen, "tenantId") if chosen else None
        ROUND.set(2)  # this part's calls from here on (Wisenet's go on as round 1)
        # --since checks only the invoices changed since then. Without cached invoices those
        # few are fetched and not kept (the cache must never believe it holds what it was not
        # given).
        cached_since = cache.since("invoices")
        partial = invoices_since is not None and cached_since is None
        since = invoices_since if partial else cached_since
        day = _DayLimit(sources.log, 2)
        contacts, invoices = await asyncio.gather(
            pages.xero(
                "/Contacts", "contacts", cache.since("contacts"), day, includeArchived="true"
            ),
            pages.xero("/Invoices", "invoices", since, day),
        )
        bulk.contacts = cache.merge("contacts", contacts, started)
        bulk.invoices = invoices if partial else cache.merge("invoices", invoices, started)
        cache.save(*cache.to_save("contacts", *(() if partial else ("invoices",))))

    await _side_by_side(wisenet(), xero())
    bulk.whole = invoices_since is None
    bulk.unchanged = bulk.whole and cache.folder is not None and not cache.changed
    bulk.generation = cache.generation()
    bulk.before = cache.loaded
    known = [cache.delta.get(r) for r in RESOURCES]
    bulk.delta = dict(zip(RESOURCES, known, strict=True)) if None not in known else None
    if invoices_since is not None:
        bulk.invoices = [
            i
            for i in bulk.invoices
            if (updated := parse_datetime(i.get("UpdatedDateUTC"))) is None
            or updated > invoices_since
        ]
    return bulk
