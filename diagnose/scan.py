"""`diagnose scan`: the whole tenant's sync health from a few hundred paged calls.

The tenant is fetched in bulk and kept on disk as it comes (`scan_fetch`). Then every learner
and every invoice is gathered by the single diagnosis's own gatherer, reading those records
through `sources.bulk` (which answers each call as the service would), and the same pure checks
run on it: no per-learner call is made, and no second way of building evidence exists to
disagree.
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from checks.alerts import related_names
from diagnose import engine, parse, scan_units
from diagnose.checking import Check
from diagnose.evidence import Evidence, Key, RawEvidence
from diagnose.gather import at_once, gather_invoice, gather_learner, organisation
from diagnose.latest import Latest
from diagnose.model import (
    ApiCall,
    Finding,
    Status,
    TargetKind,
)
from diagnose.refs import GUID, InvoiceRef, LearnerRef
from diagnose.scan_cache import load_findings, save_findings
from diagnose.sources.bulk import Ask, Bulk, BulkSources, BulkWisenet, BulkXero
from diagnose.sources.calls import CallLog

MEMO_ROOM = 4096  # parses kept between subjects: a learner's records, then its invoices'
PROGRESS_EVERY = 500  # learners checked between two reports of progress
Progress = Callable[[int, int], None]  # (learners checked, of how many)
Record = Mapping[str, Any]


def _alerts_naming(alerts: list[Any] | None) -> Callable[..., list[Any]] | None:
    """The Event Alerts that name any of some records (each alert read once for all subjects:
    every alert for every subject would cost more than all the checks)."""
    if alerts is None:
        return None
    index: dict[str, list[Any]] = defaultdict(list)
    for alert in alerts:
        if isinstance(alert, Mapping):
            for name in related_names(parse.text(alert, "RelatedRecord")):
                index[name].append(alert)

    def naming(*records: str) -> list[Any]:
        keys = {r.strip().casefold() for r in records} - {""}
        return list({id(a): a for k in keys for a in index.get(k, [])}.values())

    return naming


def findings_of(
    bulk: Bulk,
    catalogue: Sequence[Check],
    *,
    mode: str,
    tenant: str,
    calls: Sequence[ApiCall] = (),
    folder: Path | None = None,
    progress: Progress | None = None,
) -> list[Finding]:
    """`diagnose_all`'s findings, kept in the scan's cache `folder`. When no record changed
    since the last scan, and the checks, the organisation and the alerts are the same, the last
    scan's findings are the answer and no check runs again; when some records changed, only the
    subjects they touch are checked again (`scan_units`)."""
    signature = _signature(bulk, catalogue, mode, tenant)
    if bulk.unchanged:
        kept = load_findings(folder, signature, bulk.generation)
        if kept is not None:
            bulk.reused = True
            return kept
    earlier = None
    if bulk.whole and bulk.delta is not None and bulk.before:
        touched = scan_units.Touched(bulk.delta)
        earlier = scan_units.load(
            folder,
            signature,
            bulk.before,
            touched=touched,
            invoices=len(bulk.invoices),
            checks={c.id: c for c in catalogue},
        )
    units = scan_units.Writer(folder if bulk.whole else None, signature, bulk.generation)
    young, *older = gc.get_threshold()
    # The checks make and drop millions of small objects, almost none in a cycle: the young
    # generation is collected every 10,000 of them, not every 700 (5 % of the scan's CPU).
    gc.set_threshold(max(young, 10_000), *older)
    try:
        found = list(
            diagnose_all(
                bulk,
                catalogue,
                mode=mode,
                tenant=tenant,
                calls=calls,
                progress=progress,
                earlier=earlier,
                units=units,
            )
        )
    finally:
        gc.set_threshold(young, *older)
        units.abandon()  # unless it was done
        if earlier is not None:
            earlier.close()
    if bulk.whole:
        save_findings(folder, signature, bulk.generation, found)
    return found


def _signature(bulk: Bulk, catalogue: Sequence[Check], mode: str, tenant: str) -> str:
    """What a scan's findings depend on besides the records: diagnose's version, each check
    (its id, what it requires, its words), the organisation's connections and the alerts."""
    from diagnose import __version__

    checks = [
        [c.id, c.applies_to, list(c.requires), list(c.params), c.title, c.fix, c.explanation]
        for c in catalogue
    ]
    document = [__version__, mode, tenant, checks, bulk.connections, bulk.alerts]
    text = json.dumps(document, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def diagnose_all(
    bulk: Bulk,
    catalogue: Sequence[Check],
    *,
    mode: str,
    tenant: str,
    calls: Sequence[ApiCall] = (),
    progress: Progress | None = None,
    earlier: scan_units.Earlier | None = None,
    units: scan_units.Writer | None = None,
) -> Iterator[Finding]:
    """Every learner's and every invoice's failures, warnings and undecided checks (what passed
    or did not apply is not kept: at 40,000 subjects it would be most of the memory). `progress`
    is told how many learners have been checked, of how many, every `PROGRESS_EVERY`.

    Each subject's evidence is gathered by `gather_learner` / `gather_invoice`, the code a single
    diagnosis runs, reading the fetched pages through `BulkSources` instead of the network. A
    subject `earlier` holds (the last scan's, untouched by any change) is not checked again:
    its findings are the ones kept. Each subject's calls and findings go to `units`."""
    chosen = organisation(bulk.connections, None)
    reader = BulkSources(
        BulkWisenet(bulk),
        BulkXero(bulk, parse.text(chosen, "tenantId") if chosen else None),
        CallLog(list(calls)),
        mode,
        tenant,
        memo=Latest(MEMO_ROOM),  # each record parsed once while its subjects are checked
    )
    naming = _alerts_naming(bulk.alerts)
    units = units or scan_units.Writer(None, "", "")

    def evidence(raw: RawEvidence, named: Sequence[str]) -> Evidence:
        raw.calls = reader.log.calls  # the bulk calls answered: the services are reachable
        found = Evidence(raw, reader.memo)
        if naming is not None:  # of the Event Alerts, those naming its learner or invoice
            learner = found.learner if Key.WISENET_LEARNER in raw.payloads else None
            names = (learner.learner_number, learner.full_name) if learner else ()
            raw.payloads[Key.EVENT_ALERTS] = naming(*named, *names)
        return found

    # the connection checks, decided once: the same for everyone (the last scan's, if kept)
    settled: list[Finding] = list(earlier.tenant) if earlier else []
    told = False

    def first() -> list[Finding]:
        """The connection checks' noteworthy findings, before the first subject's."""
        nonlocal told
        if told or not settled:
            return []
        told = True
        return [x for x in settled if x.status.noteworthy]

    def checked(raw: RawEvidence, kind: TargetKind, named: Sequence[str]) -> list[Finding]:
        found = engine.run(
            evidence(raw, named),
            catalogue,
            kinds=[kind],
            headline=str(raw.subject),  # not read: a scan keeps only the findings
            settled=settled,
            noteworthy_only=bool(settled),
        ).findings
        if not settled:
            settled.extend(x for x in found if x.target.kind is TargetKind.TENANT)
        return [x for x in found if x.target.kind is kind and x.status.noteworthy]

    def asking() -> dict[Ask, None]:
        """A new subject: the calls it makes are noted from here on."""
        asked: dict[Ask, None] = {}
        reader.wisenet.asked = reader.xero.asked = asked
        return asked

    # Invoices on the same contact gather the same evidence but for the invoice itself (the
    # gatherer's path follows the contact alone): one gathering a contact, its invoices checked
    # together, each as its own target, right after their learner while the records they share
    # are fresh. Their findings come after the learners', in the order of Xero's list.
    xero = reader.xero
    checked_at = bytearray(len(bulk.invoices))  # 1 where an invoice has been checked
    kept: list[tuple[int, Finding]] = []
    again = reused = 0  # subjects checked (again), and those whose kept findings stand

    def invoices_on(group: Sequence[int], contact_id: str) -> None:
        """Some invoices on one contact (positions in Xero's list), checked together."""
        nonlocal again
        for n in group:
            checked_at[n] = 1
        ids = [parse.text(bulk.invoices[n], "InvoiceID") for n in group]
        again += 1
        asked = asking()
        xero.note_invoices_on(contact_id)  # which of them are checked together
        named = [
            parse.text(bulk.invoices[n], "InvoiceNumber") or i
            for n, i in zip(group, ids, strict=True)
        ]
        raw = at_once(gather_invoice(InvoiceRef("id", ids[0].lower()), reader, typed=named[0]))
        if len(group) > 1 and isinstance(raw.payloads.get(Key.XERO_INVOICES), Mapping):
            each = [at_once(xero.invoice(i.lower())) for i in ids]
            raw.payloads[Key.XERO_INVOICES] = {
                "Invoices": [row for body in each if body for row in body["Invoices"]]
            }
        at = {i.lower(): n for n, i in zip(group, ids, strict=True)}
        mine = checked(raw, TargetKind.INVOICE, named)
        kept.extend((-1, f) for f in first())  # before all: when no learner came first
        positions = [at.get(f.target.key.lower(), group[0]) for f in mine]
        kept.extend(zip(positions, mine, strict=True))
        units.group(group, list(asked), mine, positions)

    def on_contact(contact_id: str) -> None:
        """The invoices on a contact not yet checked (those that can be diagnosed: an
        InvoiceID); on no readable contact, each alone."""
        group = [
            n for n in xero.invoices_on(contact_id) if xero.identified[n] and not checked_at[n]
        ]
        if GUID.fullmatch(contact_id):
            if group:
                invoices_on(group, contact_id)
        else:
            for n in group:
                invoices_on([n], contact_id)

    if earlier is not None:  # the invoices checked together before, none of them touched
        reused += len(earlier.groups)
        for together in earlier.groups:
            for n in together.invoices:
                checked_at[n] = 1
            units.copy(earlier.line(together))
            kept.extend(zip(together.at, together.findings, strict=True))
    total = len(reader.wisenet.ids)
    for done, learner_id in enumerate(reader.wisenet.ids):  # in Wisenet's order
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total)
        if learner_id < 1:
            continue  # not a learner Wisenet could be asked about
        same = earlier.learners.get(learner_id) if earlier else None
        if same is not None and earlier is not None:
            # its invoices are found by the pass over Xero's list below, kept or checked
            reused += 1
            units.copy(earlier.line(same))
            yield from first()
            yield from same.findings
            continue
        again += 1
        asked = asking()
        ref = LearnerRef("id", str(learner_id))
        raw = at_once(gather_learner(ref, reader, typed=ref.value))
        mine = checked(raw, TargetKind.LEARNER, (raw.subject.ref,))
        units.learner(learner_id, list(asked), mine)
        yield from first()
        yield from mine
        learner = raw.payloads.get(Key.WISENET_LEARNER)
        if isinstance(learner, Mapping) and (parsed := reader.parsed(parse.learner, learner)):
            for contact in xero.coded(parsed.learner_number):
                contact_id = parse.text(contact, "ContactID").lower()
                if GUID.fullmatch(contact_id):
                    on_contact(contact_id)
    for n in range(len(bulk.invoices)):  # those on no learner's contact, in Xero's order
        if xero.identified[n] and not checked_at[n]:
            on_contact(parse.text(parse.obj(bulk.invoices[n], "Contact"), "ContactID").lower())
    reader.wisenet.asked = reader.xero.asked = None
    if progress is not None:
        progress(total, total)
    kept.extend((-1, f) for f in first())  # when no learner came first: before all
    kept.sort(key=lambda pair: pair[0])
    yield from (f for _, f in kept)
    bulk.rechecked = (again, again + reused) if earlier else None
    if earlier is not None:
        earlier.close()  # before its file is replaced (which some systems refuse while open)
    units.done(settled)


def counts(findings: Sequence[Finding]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in findings:
        if f.status in (Status.FAIL, Status.WARN, Status.ERROR):
            table[f.check_id][f.status.value] += 1
    return {check: dict(by) for check, by in table.items()}
