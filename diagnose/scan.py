"""`diagnose scan`: the whole tenant's sync health from a few hundred paged calls.

The tenant is fetched in bulk — Wisenet learners and invoices, Xero contacts (archived included)
and invoices, each paged with the largest page the service serves — then indexed, and every
learner and every invoice gets the evidence a single diagnosis would have fetched for it, cut
from the bulk data. The same pure checks run on it: no per-learner call is made.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from checks.alerts import related_names
from diagnose import engine, parse
from diagnose.checking import Check
from diagnose.errors import SourceError
from diagnose.evidence import Evidence, Key, RawEvidence
from diagnose.gather import Sources, lookalike_ids, organisation
from diagnose.model import (
    ApiCall,
    Finding,
    ProblemKind,
    Status,
    Subject,
    SubjectKind,
    TargetKind,
)
from diagnose.msdate import parse_datetime
from diagnose.sources.http import a_list, envelope

WISENET_PAGE = 1000
XERO_PAGE = 1000
Record = Mapping[str, Any]


@dataclass
class Bulk:
    learners: list[Any] = field(default_factory=list)
    wisenet_invoices: list[Any] = field(default_factory=list)
    connections: list[Any] = field(default_factory=list)
    contacts: list[Any] = field(default_factory=list)
    invoices: list[Any] = field(default_factory=list)
    alerts: list[Any] | None = None


RESOURCES = ("learners", "wisenet_invoices", "contacts", "invoices")
KEYS: dict[str, Callable[[Any], str]] = {
    "learners": lambda r: parse.text(parse.unwrap(r)[0], "LearnerId"),
    "wisenet_invoices": lambda r: (
        parse.text(parse.unwrap(r)[0], "InvoiceId")
        or parse.text(parse.unwrap(r)[0], "InvoiceNumber")
    ),
    "contacts": lambda r: parse.text(r, "ContactID"),
    "invoices": lambda r: parse.text(r, "InvoiceID"),
}
OVERLAP = timedelta(minutes=2)  # changes made while a page was being read are read again


@dataclass
class Cache:
    """The pages a scan fetched, a resource at a time, with when each was fetched: the next
    scan asks only for what changed since, and an interrupted one resumes where it stopped.
    One file a resource in `folder`, so saving what a round brought rewrites only that."""

    folder: Path | None
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path | None) -> Cache:
        cache = cls(folder)
        if folder is None:
            return cache
        for resource in RESOURCES:
            try:
                document = json.loads((folder / f"{resource}.json").read_text(encoding="utf-8"))
                if document.get("format") == CACHE_FORMAT and isinstance(document["rows"], list):
                    cache.resources[resource] = document
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue  # missing or damaged: that resource is fetched in full
        return cache

    def since(self, resource: str) -> datetime | None:
        entry = self.resources.get(resource)
        return datetime.fromisoformat(entry["fetched_at"]) if entry else None

    def merge(self, resource: str, rows: list[Any], started: datetime) -> list[Any]:
        """The cached rows updated with those just fetched (kept by key, in first-seen order)."""
        entry = self.resources.get(resource)
        merged: dict[str, Any] = {}
        key = KEYS[resource]
        for row in [*(entry["rows"] if entry else []), *rows]:
            merged[key(row)] = row
        self.resources[resource] = {
            "format": CACHE_FORMAT,
            "fetched_at": (started - OVERLAP).isoformat(),
            "rows": list(merged.values()),
        }
        return list(merged.values())

    def save(self, *resources: str) -> None:
        """Streamed to disk (no copy of the tenant as one string), then renamed into place."""
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        for resource in resources:
            if resource not in self.resources:
                continue
            path = self.folder / f"{resource}.json"
            partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
            with open(partial, "w", encoding="utf-8") as handle:
                json.dump(self.resources[resource], handle)
            partial.replace(path)


CACHE_FORMAT = "diagnose-scan-cache/1"


def xero_stamp(moment: datetime) -> str:
    """If-Modified-Since as Xero documents it: UTC, `YYYY-MM-DDTHH:MM:SS`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def wisenet_stamp(moment: datetime) -> str:
    """lastModifiedTimeStampFilter's date as Wisenet documents it: `YYYY-MM-DDTHH:MM:SS.fff`."""
    at = moment.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}"


def _refused(exc: SourceError) -> bool:
    """A 400 on an incremental call: the service would not take the filter."""
    return exc.problem.kind is ProblemKind.BAD_RESPONSE and "HTTP 400" in exc.problem.message


async def _wisenet_pages(
    sources: Sources, path: str, tick: Callable[[], None], since: datetime | None
) -> list[Any]:
    rows: list[Any] = []
    skip = 0
    extra = {"lastModifiedTimeStampFilter": f"gt:{wisenet_stamp(since)}"} if since else {}
    while True:
        try:
            page = await sources.wisenet.session.get(
                path, params={"skip": skip, "take": WISENET_PAGE, **extra}, shape=a_list
            )
        except SourceError as exc:
            if not (extra and _refused(exc)):
                raise
            extra, rows, skip = {}, [], 0  # the filter was refused: fetch it all instead
            continue
        tick()
        rows.extend(page or [])
        if not page or len(page) < WISENET_PAGE:
            return rows
        skip += WISENET_PAGE


async def _xero_pages(
    sources: Sources, path: str, tick: Callable[[], None], since: datetime | None, **params: Any
) -> list[Any]:
    rows: list[Any] = []
    page = 1
    collection = path.rsplit("/", 1)[-1]
    xero = sources.xero
    headers = {"xero-tenant-id": xero.tenant_id or ""}
    if since is not None:
        headers["If-Modified-Since"] = xero_stamp(since)
    while True:
        try:
            body = await xero.session.get(
                f"/api.xro/2.0{path}",
                params={**params, "page": page, "pageSize": XERO_PAGE},
                headers=headers,
                shape=envelope(collection),
            )
        except SourceError as exc:
            if "If-Modified-Since" not in headers or not _refused(exc):
                raise
            del headers["If-Modified-Since"]  # refused: fetch it all instead
            rows, page = [], 1
            continue
        tick()
        found = body.get(collection, []) if isinstance(body, Mapping) else []
        rows.extend(found)
        pagination = body.get("pagination") if isinstance(body, Mapping) else None
        count = pagination.get("pageCount") if isinstance(pagination, Mapping) else None
        if not found or (isinstance(count, int) and page >= count):
            return rows
        page += 1


async def fetch(
    sources: Sources,
    tick: Callable[[], None] = lambda: None,
    *,
    cache: Cache | None = None,
    invoices_since: datetime | None = None,
) -> Bulk:
    """Everything, in two rounds: the organisation and Wisenet; then Xero's pages. With a cache,
    only what changed since each resource was last fetched."""
    cache = cache or Cache(None)
    started = datetime.now(UTC)
    bulk = Bulk(alerts=sources.alerts)
    sources.log.round = 1
    flavour = sources.wisenet.learners_path
    learners, tab, bulk.connections = await asyncio.gather(
        _wisenet_pages(sources, flavour, tick, cache.since("learners")),
        _wisenet_pages(sources, "/invoices", tick, cache.since("wisenet_invoices")),
        sources.xero.connections(),
    )
    bulk.learners = cache.merge("learners", learners, started)
    bulk.wisenet_invoices = cache.merge("wisenet_invoices", tab, started)
    cache.save("learners", "wisenet_invoices")  # kept even if round 2 is interrupted
    if not sources.xero.tenant_id:
        chosen = organisation(bulk.connections, None)
        sources.xero.tenant_id = parse.text(chosen, "tenantId") if chosen else None
    sources.log.round = 2
    # --since checks only the invoices changed since then. Without cached invoices those few are
    # fetched and not kept (the cache must never believe it holds what it was not given).
    cached_since = cache.since("invoices")
    partial = invoices_since is not None and cached_since is None
    since = invoices_since if partial else cached_since
    contacts, invoices = await asyncio.gather(
        _xero_pages(sources, "/Contacts", tick, cache.since("contacts"), includeArchived="true"),
        _xero_pages(sources, "/Invoices", tick, since),
    )
    bulk.contacts = cache.merge("contacts", contacts, started)
    bulk.invoices = invoices if partial else cache.merge("invoices", invoices, started)
    cache.save("contacts", *(() if partial else ("invoices",)))
    if invoices_since is not None:
        bulk.invoices = [
            i
            for i in bulk.invoices
            if (updated := parse_datetime(i.get("UpdatedDateUTC"))) is None
            or updated > invoices_since
        ]
    return bulk


@dataclass
class _Index:
    bulk: Bulk
    calls: list[ApiCall] = field(default_factory=list)
    by_number: dict[str, Any] = field(default_factory=dict)
    by_id: dict[str, Any] = field(default_factory=dict)
    contact_by_code: dict[str, Any] = field(default_factory=dict)
    by_name: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    by_email: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    invoices_of: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    tab_of: dict[int, list[Any]] = field(default_factory=lambda: defaultdict(list))
    alerts_for: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        for item in self.bulk.learners:
            data, _ = parse.unwrap(item)
            number = parse.text(parse.obj(data, "Personal"), "LearnerNumber").strip()
            if number:
                self.by_number.setdefault(number.casefold(), item)
        for contact in self.bulk.contacts:
            self.by_id[parse.text(contact, "ContactID")] = contact
            code = parse.text(contact, "ContactNumber").strip()
            if code:
                self.contact_by_code.setdefault(code, contact)
            name = " ".join(
                (parse.text(contact, "FirstName"), parse.text(contact, "LastName"))
            ).strip()
            for key in {name.casefold(), parse.text(contact, "Name").strip().casefold()} - {""}:
                self.by_name[key].append(contact)
            email = parse.text(contact, "EmailAddress").strip().casefold()
            if email:
                self.by_email[email].append(contact)
        for invoice in self.bulk.invoices:
            self.invoices_of[parse.text(parse.obj(invoice, "Contact"), "ContactID")].append(invoice)
        for alert in self.bulk.alerts or []:
            if isinstance(alert, Mapping):
                for name in related_names(parse.text(alert, "RelatedRecord")):
                    self.alerts_for[name].append(alert)
        for row in self.bulk.wisenet_invoices:
            data, _ = parse.unwrap(row)
            learner_id = parse.integer(data, "LearnerId")
            if learner_id is not None:
                self.tab_of[learner_id].append(row)

    def common(self, raw: RawEvidence, *records: str) -> RawEvidence:
        """What every subject shares; of the Event Alerts, only those naming `records` (parsing
        every alert for every subject would cost more than all the checks)."""
        raw.calls = self.calls  # the bulk calls answered: the services are reachable
        raw.payloads[Key.XERO_CONNECTIONS] = self.bulk.connections
        if self.bulk.alerts is not None:
            keys = {r.strip().casefold() for r in records} - {""}
            found = {id(a): a for k in keys for a in self.alerts_for.get(k, [])}
            raw.payloads[Key.EVENT_ALERTS] = list(found.values())
        return raw

    def learner_payloads(self, raw: RawEvidence, item: Any) -> None:
        learner = parse.learner(item)
        if learner is None:
            return
        raw.payloads[Key.WISENET_LEARNER] = item
        raw.payloads[Key.WISENET_INVOICES] = self.tab_of.get(learner.learner_id, [])
        coded = self.contact_by_code.get(learner.learner_number)
        raw.payloads[Key.XERO_CONTACT] = {"Contacts": [coded]} if coded else None
        raw.payloads[Key.XERO_SEARCH_NAME] = {
            "Contacts": self.by_name.get(learner.full_name.casefold(), [])
        }
        if learner.email.strip():
            raw.payloads[Key.XERO_SEARCH_EMAIL] = {
                "Contacts": self.by_email.get(learner.email.strip().casefold(), [])
            }
        others = lookalike_ids(raw.payloads)  # the same contacts a single diagnosis asks about
        if others:
            raw.payloads[Key.XERO_LOOKALIKE_INVOICES] = {
                "Invoices": [i for c in others for i in self.invoices_of.get(c, [])]
            }

    def for_learner(self, item: Any, mode: str, tenant: str) -> RawEvidence:
        data, _ = parse.unwrap(item)
        raw = RawEvidence(Subject(SubjectKind.LEARNER, parse.text(data, "LearnerId")), mode, tenant)
        learner = parse.learner(item)
        names = (
            (learner.learner_number, learner.full_name, str(learner.learner_id)) if learner else ()
        )
        self.learner_payloads(self.common(raw, *names), item)
        raw.payloads[Key.XERO_INVOICES] = {"Invoices": []}  # its invoices are checked one by one
        return raw

    def for_invoice(self, invoice: Any, mode: str, tenant: str) -> RawEvidence:
        number = parse.text(invoice, "InvoiceNumber") or parse.text(invoice, "InvoiceID")
        raw = self.common(
            RawEvidence(Subject(SubjectKind.INVOICE, number), mode, tenant),
            parse.text(invoice, "InvoiceNumber"),
        )
        raw.payloads[Key.XERO_INVOICES] = {"Invoices": [invoice]}
        contact = self.by_id.get(parse.text(parse.obj(invoice, "Contact"), "ContactID"))
        raw.payloads[Key.XERO_INVOICE_CONTACTS] = {"Contacts": [contact] if contact else []}
        code = parse.text(contact, "ContactNumber").strip() if contact else ""
        if code:
            item = self.by_number.get(code.casefold())
            if item is None:
                raw.payloads[Key.WISENET_LEARNER] = None
            else:
                self.learner_payloads(raw, item)
        return raw


def diagnose_all(
    bulk: Bulk,
    catalogue: Sequence[Check],
    *,
    mode: str,
    tenant: str,
    calls: Sequence[ApiCall] = (),
) -> Iterator[Finding]:
    """Every learner's and every invoice's failures, warnings and undecided checks (what passed
    or did not apply is not kept: at 40,000 subjects it would be most of the memory)."""
    index = _Index(bulk, list(calls))
    memo: dict[tuple[str, int], Any] = {}  # every record parsed once, for all the subjects
    first = True
    for item in bulk.learners:
        evidence = Evidence(index.for_learner(item, mode, tenant), memo)
        for finding in engine.run(evidence, catalogue, kinds=[TargetKind.LEARNER]).findings:
            noteworthy = finding.status in (Status.FAIL, Status.WARN, Status.ERROR)
            if noteworthy and (finding.target.kind is not TargetKind.TENANT or first):
                yield finding
        first = False
    for invoice in bulk.invoices:
        evidence = Evidence(index.for_invoice(invoice, mode, tenant), memo)
        for finding in engine.run(evidence, catalogue, kinds=[TargetKind.INVOICE]).findings:
            noteworthy = finding.status in (Status.FAIL, Status.WARN, Status.ERROR)
            if noteworthy and finding.target.kind is TargetKind.INVOICE:
                yield finding


def counts(findings: Sequence[Finding]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in findings:
        if f.status in (Status.FAIL, Status.WARN, Status.ERROR):
            table[f.check_id][f.status.value] += 1
    return {check: dict(by) for check, by in table.items()}
