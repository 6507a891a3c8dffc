"""`diagnose scan`: the whole tenant's sync health from a few hundred paged calls.

The tenant is fetched in bulk — Wisenet learners and invoices, Xero contacts (archived included)
and invoices, each paged with the largest page the service serves — then indexed, and every
learner and every invoice gets the evidence a single diagnosis would have fetched for it, cut
from the bulk data. The same pure checks run on it: no per-learner call is made.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from diagnose import engine, parse
from diagnose.checking import Check
from diagnose.evidence import Evidence, Key, RawEvidence
from diagnose.gather import Sources
from diagnose.model import ApiCall, Finding, Status, Subject, SubjectKind, TargetKind

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


async def _wisenet_pages(sources: Sources, path: str, tick: Callable[[], None]) -> list[Any]:
    rows: list[Any] = []
    skip = 0
    while True:
        page = await sources.wisenet.session.get(path, params={"skip": skip, "take": WISENET_PAGE})
        tick()
        rows.extend(page if isinstance(page, list) else [])
        if not isinstance(page, list) or len(page) < WISENET_PAGE:
            return rows
        skip += WISENET_PAGE


async def _xero_pages(
    sources: Sources, path: str, tick: Callable[[], None], **params: Any
) -> list[Any]:
    rows: list[Any] = []
    page = 1
    collection = path.rsplit("/", 1)[-1]
    xero = sources.xero
    while True:
        body = await xero.session.get(
            f"/api.xro/2.0{path}",
            params={**params, "page": page, "pageSize": XERO_PAGE},
            headers={"xero-tenant-id": xero.tenant_id or ""},
        )
        tick()
        found = body.get(collection, []) if isinstance(body, Mapping) else []
        rows.extend(found)
        pagination = body.get("pagination") if isinstance(body, Mapping) else None
        count = pagination.get("pageCount") if isinstance(pagination, Mapping) else None
        if not found or (isinstance(count, int) and page >= count):
            return rows
        page += 1


async def fetch(sources: Sources, tick: Callable[[], None] = lambda: None) -> Bulk:
    """Everything, in two rounds: the organisation and Wisenet; then Xero's pages."""
    bulk = Bulk(alerts=sources.alerts)
    sources.log.round = 1
    flavour = sources.wisenet.learners_path
    bulk.learners, bulk.wisenet_invoices, bulk.connections = await asyncio.gather(
        _wisenet_pages(sources, flavour, tick),
        _wisenet_pages(sources, "/invoices", tick),
        sources.xero.connections(),
    )
    if not sources.xero.tenant_id:
        chosen = next(
            (c for c in bulk.connections if parse.text(c, "tenantType") == "ORGANISATION"), None
        )
        sources.xero.tenant_id = parse.text(chosen, "tenantId") if chosen else None
    sources.log.round = 2
    bulk.contacts, bulk.invoices = await asyncio.gather(
        _xero_pages(sources, "/Contacts", tick, includeArchived="true"),
        _xero_pages(sources, "/Invoices", tick),
    )
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
        for row in self.bulk.wisenet_invoices:
            data, _ = parse.unwrap(row)
            learner_id = parse.integer(data, "LearnerId")
            if learner_id is not None:
                self.tab_of[learner_id].append(row)

    def common(self, raw: RawEvidence) -> RawEvidence:
        raw.calls = self.calls  # the bulk calls answered: the services are reachable
        raw.payloads[Key.XERO_CONNECTIONS] = self.bulk.connections
        if self.bulk.alerts is not None:
            raw.payloads[Key.EVENT_ALERTS] = self.bulk.alerts
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

    def for_learner(self, item: Any, mode: str, tenant: str) -> RawEvidence:
        data, _ = parse.unwrap(item)
        raw = RawEvidence(Subject(SubjectKind.LEARNER, parse.text(data, "LearnerId")), mode, tenant)
        self.learner_payloads(self.common(raw), item)
        raw.payloads[Key.XERO_INVOICES] = {"Invoices": []}  # its invoices are checked one by one
        return raw

    def for_invoice(self, invoice: Any, mode: str, tenant: str) -> RawEvidence:
        number = parse.text(invoice, "InvoiceNumber") or parse.text(invoice, "InvoiceID")
        raw = self.common(RawEvidence(Subject(SubjectKind.INVOICE, number), mode, tenant))
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
    """Every learner's and every invoice's findings (the connection checks once, first)."""
    index = _Index(bulk, list(calls))
    first = True
    for item in bulk.learners:
        evidence = Evidence(index.for_learner(item, mode, tenant))
        for finding in engine.run(evidence, catalogue, kinds=[TargetKind.LEARNER]).findings:
            if finding.target.kind is not TargetKind.TENANT or first:
                yield finding
        first = False
    for invoice in bulk.invoices:
        evidence = Evidence(index.for_invoice(invoice, mode, tenant))
        for finding in engine.run(evidence, catalogue, kinds=[TargetKind.INVOICE]).findings:
            if finding.target.kind is TargetKind.INVOICE:
                yield finding


def counts(findings: Sequence[Finding]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in findings:
        if f.status in (Status.FAIL, Status.WARN, Status.ERROR):
            table[f.check_id][f.status.value] += 1
    return {check: dict(by) for check, by in table.items()}
