"""The scan and the single diagnoses agree, subject by subject: the same verdict and message for
every learner and every invoice of generated tenants (look-alikes, merges, near-miss codes,
whitespace and the rest of the catalogue's failure modes at realistic rates)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from diagnose import engine, runner
from diagnose import scan as scanning
from diagnose.model import SubjectKind, TargetKind
from diagnose.sandbox.generate import generate
from diagnose.sandbox.tenant import parse_tenant
from diagnose.scan_fetch import fetch
from diagnose.sources.sandbox import sandbox_sources


def near_misses(document: dict[str, Any], every: int) -> None:
    """Give every `every`th coded contact its code in lower case, and others theirs between
    spaces: near misses."""
    coded = [c for c in document["xero"]["contacts"] if c.get("ContactNumber")]
    for contact in coded[::every]:
        contact["ContactNumber"] = contact["ContactNumber"].lower()
    for contact in coded[4::every]:
        contact["ContactNumber"] = f" {contact['ContactNumber']} "


@pytest.mark.parametrize("seed", [3, 11])
def test_the_scan_says_what_each_single_diagnosis_says(seed: int) -> None:
    document, _ = generate(60, seed)
    near_misses(document, 9)
    tenant = parse_tenant(document)
    catalogue = engine.load_catalogue()

    async def scan() -> list[Any]:
        async with sandbox_sources(tenant) as sources:
            bulk = await fetch(sources)
            calls = list(sources.log.calls)
        return list(scanning.diagnose_all(bulk, catalogue, mode="sandbox", tenant="t", calls=calls))

    scanned: dict[tuple[str, str], set[tuple[str, str, str]]] = {}
    for f in asyncio.run(scan()):
        if f.target.kind is TargetKind.TENANT:
            continue
        key = (f.target.kind.value, f.target.label)
        scanned.setdefault(key, set()).add((f.check_id, f.status.value, f.message))

    def single(kind: SubjectKind, ref: str, target: TargetKind) -> dict[Any, Any]:
        raw = asyncio.run(runner.gather_async(kind, ref, tenant))
        found: dict[tuple[str, str], set[tuple[str, str, str]]] = {}
        for f in runner.diagnose(raw).findings:
            if f.target.kind is target and f.status.noteworthy:
                key = (f.target.kind.value, f.target.label)
                found.setdefault(key, set()).add((f.check_id, f.status.value, f.message))
        return found

    disagreements = []
    for item in document["wisenet"]["learners"]:
        learner_id = str(item["LearnerId"])
        mine = single(SubjectKind.LEARNER, learner_id, TargetKind.LEARNER)
        for key, findings in mine.items():
            if scanned.get(key, set()) != findings:
                disagreements.append((key, findings, scanned.get(key)))
    for invoice in document["xero"]["invoices"]:
        mine = single(SubjectKind.INVOICE, invoice["InvoiceID"], TargetKind.INVOICE)
        for key, findings in mine.items():
            if scanned.get(key, set()) != findings:
                disagreements.append((key, findings, scanned.get(key)))
    assert disagreements == []
    seen = {(check, status) for found in scanned.values() for check, status, _ in found}
    messages = " ".join(m for found in scanned.values() for _, _, m in found)
    assert ("contact.duplicates", "fail") in seen  # look-alikes were among the subjects
    assert "differs in letter case" in messages  # and near-miss codes
    assert ("invoice.contact-merged", "fail") in seen  # and merges
