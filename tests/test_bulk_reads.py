"""The scan's in-memory services answer as Wisenet and Xero do: every call a diagnosis makes, asked
of the sandbox over HTTP and of the fetched pages, gets the same records in the same order. This
is what lets the scan hand its pages to the single diagnosis's gatherer."""

from __future__ import annotations

import asyncio
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diagnose.errors import UsageError
from diagnose.sandbox.generate import generate
from diagnose.sandbox.tenant import parse_tenant
from diagnose.scan_fetch import fetch
from diagnose.sources.bulk import Bulk, BulkWisenet, BulkXero
from diagnose.sources.positions import HASHED, LOW, Postings, TextSearch
from diagnose.sources.sandbox import sandbox_sources

FIELDS = ("Name", "Email")
letters = st.sampled_from([*"abAB -.@_1", "ß", "SS", "İ", "é", "Ö"])
texts = st.lists(letters, max_size=12).map("".join)


class Narrowing(TextSearch):
    FEW = -1  # however few the records, narrowed by the indexes (as a whole tenant's are)


SEARCHES = (TextSearch, Narrowing)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.fixed_dictionaries({"Name": texts, "Email": texts}), max_size=25), texts)
def test_the_text_search_finds_exactly_what_contains_the_text(
    records: list[dict[str, str]], text: str
) -> None:
    folded = text.casefold()
    expected = [r for r in records if any(folded in r[f].casefold() for f in FIELDS)]
    for search in SEARCHES:
        assert search(records, FIELDS).find(text) == expected


@given(st.lists(st.text(string.ascii_letters + " ", max_size=8), min_size=1, max_size=10))
def test_a_text_from_inside_a_record_finds_that_record(names: list[str]) -> None:
    records = [{"Name": n, "Email": ""} for n in names]
    for search in (kind(records, FIELDS) for kind in SEARCHES):
        for record in records:
            middle = record["Name"][1:-1].upper()
            assert record in search.find(middle)


def records(answer: Any) -> Any:
    """An answer's records (an envelope's id, time and paging aside)."""
    if isinstance(answer, dict):
        return {k: v for k, v in answer.items() if k in ("Contacts", "Invoices")}
    return answer


def test_the_pages_answer_every_call_as_the_services_do() -> None:
    document, _ = generate(80, 5)
    contacts = [c for c in document["xero"]["contacts"] if c.get("ContactNumber")]
    for contact in contacts[::7]:
        contact["ContactNumber"] = contact["ContactNumber"].lower()
    for contact in contacts[3::7]:
        contact["ContactNumber"] = f"{contact['ContactNumber']} "
    tenant = parse_tenant(document)

    async def compare() -> int:
        asked = 0

        async def same(bulk_answer: Any, api_answer: Any) -> None:
            nonlocal asked
            asked += 1
            assert records(await bulk_answer) == records(await api_answer)

        async with sandbox_sources(tenant) as sources:
            bulk = await fetch(sources)
            wisenet, xero = BulkWisenet(bulk), BulkXero(bulk, sources.xero.tenant_id)
            assert await xero.connections() == await sources.xero.connections()
        for item in document["wisenet"]["learners"]:  # a client paces itself: one a learner
            async with sandbox_sources(tenant) as sources:
                api_w, api_x = sources.wisenet, sources.xero
                learner_id = item["LearnerId"]
                number = item["Personal"]["LearnerNumber"]
                name = f"{item['Personal']['FirstName']} {item['Personal']['LastName']}"
                await same(wisenet.learner(learner_id), api_w.learner(learner_id))
                await same(wisenet.invoices(learner_id), api_w.invoices(learner_id))
                for code in (number, number.lower(), f" {number}"):
                    await same(wisenet.find_learners(number=code), api_w.find_learners(number=code))
                for code in (number, number.lower()):
                    await same(xero.contact_by_number(code), api_x.contact_by_number(code))
                    await same(xero.invoices(contact_code=code), api_x.invoices(contact_code=code))
                for term in (name, name.upper(), item["Personal"].get("Email") or "x", name[2:7]):
                    await same(xero.contacts(search_term=term), api_x.contacts(search_term=term))
        ids = [c["ContactID"] for c in document["xero"]["contacts"]]
        for start in range(0, len(ids), 9):
            async with sandbox_sources(tenant) as sources:
                batch = ids[start : start + 9]
                api_x = sources.xero
                await same(xero.contacts_by_ids(batch), api_x.contacts_by_ids(batch))
                await same(xero.invoices(contact_ids=batch), api_x.invoices(contact_ids=batch))
                for invoice in document["xero"]["invoices"][start : start + 9 : 3]:
                    invoice_id = invoice["InvoiceID"]
                    bulk_answer = (await xero.invoice(invoice_id))["Invoices"]
                    api_answer = (await api_x.invoice(invoice_id))["Invoices"]
                    assert [i["Contact"] for i in bulk_answer] == [i["Contact"] for i in api_answer]
                    assert [i["InvoiceID"] for i in bulk_answer] == [invoice_id]
        return asked

    assert asyncio.run(compare()) > 1000  # calls compared


def test_records_whose_keys_share_a_place_in_the_index_are_told_apart() -> None:
    far = 7 + HASHED + 1  # its hash, cut to the index's width, is 7's
    learners = [
        {"LearnerId": far, "Personal": {"LearnerNumber": "STD-FAR"}},
        {"LearnerId": 7, "Personal": {"LearnerNumber": "STD-7"}},
    ]
    tab = [{"LearnerId": far, "InvoiceNumber": "INV-F"}, {"LearnerId": 7, "InvoiceNumber": "INV-7"}]
    index = Postings()
    index.add(far, 0)
    index.add(7, 1)
    assert index.get(7) == [0, 1]  # both are candidates: the reader tells them apart
    wisenet = BulkWisenet(Bulk(learners=learners, wisenet_invoices=tab))
    assert asyncio.run(wisenet.learner(7)) == learners[1]
    assert asyncio.run(wisenet.learner(far)) == learners[0]
    assert asyncio.run(wisenet.invoices(7)) == [tab[1]]
    assert asyncio.run(wisenet.learner(8)) is None


def test_more_records_than_a_scan_can_place_is_one_line() -> None:
    index = Postings()
    index.add("last one", LOW)
    with pytest.raises(UsageError, match="diagnose its learners and invoices one at a time"):
        index.add("one more", LOW + 1)
    assert index.get("last one") == [LOW]
