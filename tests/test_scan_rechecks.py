"""A re-scan checks again only the subjects a changed record touches, and says exactly what a
scan from nothing says: random changes of every kind a tenant sees (renames, new look-alikes,
codes lost or moved, merges, invoices moved, paid, added) are made between two scans, and the
second's findings are compared with those of a scan with no cache at all."""

from __future__ import annotations

import asyncio
import copy
import json
import random
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Run

from diagnose import engine
from diagnose import scan as scanning
from diagnose.model import Finding
from diagnose.msdate import to_ms_date
from diagnose.sandbox.generate import generate
from diagnose.sandbox.tenant import Tenant, parse_tenant
from diagnose.scan_cache import Cache
from diagnose.scan_fetch import fetch
from diagnose.sources.bulk import Bulk
from diagnose.sources.sandbox import sandbox_sources

CATALOGUE = engine.load_catalogue()


def later() -> datetime:
    """A time of change after the last scan's: the next scan asks for the record again."""
    return datetime.now(UTC) + timedelta(minutes=5)


def scanned(tenant: Tenant, folder: Path) -> tuple[list[Finding], Bulk]:
    async def run() -> tuple[list[Finding], Bulk]:
        async with sandbox_sources(tenant) as sources:
            bulk = await fetch(sources, cache=Cache.load(folder))
            calls = list(sources.log.calls)
        found = scanning.findings_of(
            bulk, CATALOGUE, mode="sandbox", tenant="t", calls=calls, folder=folder
        )
        return found, bulk

    return asyncio.run(run())


def touch_learner(learner: dict[str, Any]) -> dict[str, Any]:
    learner["LastModifiedTimeStamp"] = later().strftime("%Y-%m-%dT%H:%M:%S.000")
    personal: dict[str, Any] = learner["Personal"]
    return personal


def touch(record: dict[str, Any]) -> dict[str, Any]:
    record["UpdatedDateUTC"] = to_ms_date(later())
    return record


def changes(tenant: Tenant, rng: random.Random) -> list[Callable[[], str]]:
    """Each change a tenant sees, made to a record `rng` picks; it says what it did."""
    learners, contacts, invoices = tenant.learners, tenant.contacts, tenant.invoices

    def rename() -> str:
        personal = touch_learner(rng.choice(learners))
        other = rng.choice(learners)["Personal"]
        personal["FirstName"], personal["LastName"] = other["FirstName"], other["LastName"]
        return f"learner renamed {other['FirstName']} {other['LastName']}"

    def email() -> str:
        personal = touch_learner(rng.choice(learners))
        personal["EmailAddresses"] = dict(rng.choice(learners)["Personal"]["EmailAddresses"])
        return "learner's email is another's"

    def number() -> str:
        personal = touch_learner(rng.choice(learners))
        personal["LearnerNumber"] = rng.choice(learners)["Personal"]["LearnerNumber"].lower()
        return "learner's RefInternal is another's"

    def unticked() -> str:
        personal = touch_learner(rng.choice(learners))
        personal["SyncToXero"] = not personal["SyncToXero"]
        return "Sync to Xero toggled"

    def contact_named() -> str:
        contact = touch(rng.choice(contacts))
        personal = rng.choice(learners)["Personal"]
        contact["Name"] = f"{personal['FirstName']} {personal['LastName']}"
        return f"contact renamed {contact['Name']}"

    def recoded() -> str:
        contact = touch(rng.choice(contacts))
        contact["ContactNumber"] = rng.choice(["", rng.choice(contacts)["ContactNumber"]])
        return f"contact's code now {contact['ContactNumber']!r}"

    def archived() -> str:
        contact = touch(rng.choice(contacts))
        if rng.random() < 0.5:
            contact["ContactStatus"] = "ARCHIVED"
            return "contact archived"
        contact["MergedToContactID"] = rng.choice(contacts)["ContactID"]
        return "contact merged"

    def lookalike() -> str:
        personal = rng.choice(learners)["Personal"]
        contact = touch(copy.deepcopy(rng.choice(contacts)))
        contact.update(
            ContactID=str(uuid.UUID(int=rng.getrandbits(128))),
            ContactNumber="",
            Name=f"{personal['FirstName']} {personal['LastName']}",
            EmailAddress=personal["EmailAddresses"]["Email"],
        )
        contacts.append(contact)
        return "look-alike contact added"

    def paid() -> str:
        invoice = touch(rng.choice(invoices))
        invoice["Status"] = rng.choice(["PAID", "VOIDED", "DRAFT", "AUTHORISED"])
        return f"invoice now {invoice['Status']}"

    def moved() -> str:
        invoice = touch(rng.choice(invoices))
        invoice["Contact"] = {"ContactID": rng.choice(contacts)["ContactID"]}
        return "invoice moved to another contact"

    def new_invoice() -> str:
        invoice = touch(copy.deepcopy(rng.choice(invoices)))
        invoice["InvoiceID"] = str(uuid.UUID(int=rng.getrandbits(128)))
        invoice["InvoiceNumber"] = f"INV-N{rng.randrange(10**6):06d}"
        invoice["Contact"] = {"ContactID": rng.choice(contacts)["ContactID"]}
        invoices.append(invoice)
        return "invoice added"

    def new_learner() -> str:
        learner = copy.deepcopy(rng.choice(learners))
        learner["LearnerId"] = max(x["LearnerId"] for x in learners) + 1
        touch_learner(learner)["LearnerNumber"] = f"STD{learner['LearnerId']:07d}"
        learners.append(learner)
        return "learner added"

    def tab() -> str:
        row = rng.choice(tenant.wisenet_invoices)
        row["Status"] = rng.choice(["PAID", "VOIDED", "AUTHORISED"])
        row["UpdateDateUtc"] = later().strftime("%Y-%m-%dT%H:%M:%SZ")
        return "Wisenet's copy of an invoice changed"

    return [
        rename, email, number, unticked, contact_named, recoded, archived, lookalike, paid,
        moved, new_invoice, new_learner, tab,
    ]  # fmt: skip


@pytest.mark.parametrize("seed", range(16))
def test_a_rescan_after_changes_says_what_a_scan_from_nothing_says(
    seed: int, tmp_path: Path
) -> None:
    document, _ = generate(30, seed)
    tenant = parse_tenant(document)
    scanned(tenant, tmp_path / "cache")
    rng = random.Random(seed)  # noqa: S311 - changes chosen again the same way
    done = [rng.choice(changes(tenant, rng))() for _ in range(rng.randint(1, 4))]
    again, bulk = scanned(tenant, tmp_path / "cache")
    cold, _ = scanned(tenant, tmp_path / "none")
    assert bulk.rechecked is not None, done  # the kept subjects were used
    assert again == cold, done
    # and the kept subjects are right for the scan after it
    third, _ = scanned(tenant, tmp_path / "cache")
    assert third == cold


def test_an_invoice_is_checked_again_when_only_its_contact_changed(tmp_path: Path) -> None:
    """An invoice read on its own carries its contact whole: renaming a contact without a
    Contact Code (its invoices unchanged) changes what the invoice's checks say."""
    document, _ = generate(30, 2)
    tenant = parse_tenant(document)
    on = {i["Contact"]["ContactID"] for i in tenant.invoices}
    contact = next(c for c in tenant.contacts if c["ContactID"] in on)
    contact["ContactNumber"] = ""  # its code lost: nothing else leads to it
    scanned(tenant, tmp_path / "cache")
    touch(contact)["Name"] = "Someone Else Entirely"
    again, bulk = scanned(tenant, tmp_path / "cache")
    cold, _ = scanned(tenant, tmp_path / "none")
    assert again == cold
    assert "Someone Else Entirely" in " ".join(f.message for f in again)
    assert bulk.rechecked is not None
    checked, of = bulk.rechecked
    assert 0 < checked < of / 10  # the contact's invoices, not the tenant


def test_a_person_rescanning_after_a_rename_is_told_how_little_was_checked_again(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    document, _ = generate(40, 4)
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps(document))
    first = cli("scan", "--sandbox", str(path), "--json")
    learner = document["wisenet"]["learners"][0]
    touch_learner(learner)["FirstName"] = "Renamed"
    path.write_text(json.dumps(document))
    again = cli("scan", "--sandbox", str(path), "--json")
    told = re.search(r"note: (\d+) of (\d+) learners and invoice groups checked again", again.err)
    assert told, again.err
    assert 0 < int(told[1]) <= 5 < int(told[2])
    label = f"learner {learner['LearnerId']} · Renamed"
    assert label in again.out  # the change is seen
    assert label not in first.out
    fresh = cli("scan", "--sandbox", str(path), "--json", "--fresh")
    assert "checked again" not in fresh.err
    assert fresh.json()["findings"] == again.json()["findings"]


@pytest.mark.parametrize(
    "spoil",
    [
        lambda text: text[: len(text) // 2],  # cut short
        lambda text: text.replace('"asks":', '"asks":7,"x":', 1),  # not the calls
        lambda text: re.sub(r'"invoices":\[\d+', '"invoices":[999999', text, count=1),
        lambda text: text.replace('"learner"', '"learner":"x","y"', 1),  # not JSON
        lambda text: "",
    ],
    ids=["cut short", "calls not a list", "a place past the end", "not JSON", "empty"],
)
def test_a_damaged_record_of_the_last_scan_costs_a_full_check_never_a_wrong_finding(
    spoil: Callable[[str], str], tmp_path: Path
) -> None:
    document, _ = generate(30, 6)
    tenant = parse_tenant(document)
    scanned(tenant, tmp_path / "cache")
    kept = tmp_path / "cache" / "units.jsonl"
    kept.write_text(spoil(kept.read_text()))
    touch_learner(tenant.learners[3])["FirstName"] = "Renamed"
    again, bulk = scanned(tenant, tmp_path / "cache")
    cold, _ = scanned(tenant, tmp_path / "none")
    assert bulk.rechecked is None  # every subject checked
    assert again == cold


def test_more_changes_than_are_worth_following_check_every_subject_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("diagnose.scan_cache.DELTA_ROOM", 6)  # 3 learners, as they were and are
    document, _ = generate(30, 7)
    tenant = parse_tenant(document)
    scanned(tenant, tmp_path / "cache")
    for learner in tenant.learners[:3]:
        touch_learner(learner)["FirstName"] = "Renamed"
    again, bulk = scanned(tenant, tmp_path / "cache")
    assert bulk.rechecked is not None  # three are followed
    touch_learner(tenant.learners[3])["FirstName"] = "Renamed"
    for learner in tenant.learners[:3]:
        touch_learner(learner)["FirstName"] = "Again"
    again, bulk = scanned(tenant, tmp_path / "cache")
    cold, _ = scanned(tenant, tmp_path / "none")
    assert bulk.rechecked is None  # four are not: every subject checked
    assert again == cold


def test_after_a_write_through_diagnose_the_records_are_read_whole_and_compared(
    tmp_path: Path,
) -> None:
    """A write marks what it changed for a full read: a change that left no later time on the
    record is seen, a record gone is gone, and only what changed is checked again."""
    document, _ = generate(30, 8)
    tenant = parse_tenant(document)
    scanned(tenant, tmp_path / "cache")
    tenant.learners[2]["Personal"]["SyncToXero"] = False  # no later LastModifiedTimeStamp
    Cache(tmp_path / "cache").refetch("learners", "contacts")
    again, bulk = scanned(tenant, tmp_path / "cache")
    assert again == scanned(tenant, tmp_path / "none")[0]
    assert bulk.rechecked is not None
    assert 0 < bulk.rechecked[0] < bulk.rechecked[1] / 10
    assert not Cache.load(tmp_path / "cache").resources["learners"].get("refetch")  # read once
    del tenant.learners[5]
    Cache(tmp_path / "cache").refetch("learners")
    again, bulk = scanned(tenant, tmp_path / "cache")
    assert again == scanned(tenant, tmp_path / "none2")[0]
    assert bulk.rechecked is None  # a row gone moves those after it: every subject checked


def test_a_person_rescanning_after_a_resync_is_not_made_to_wait_for_a_full_check(
    cli: Callable[..., Run],
) -> None:
    cli("scan", "--json")
    assert cli("resync", "learner", "103", "--yes").code == 0
    again = cli("scan", "--json")
    told = re.search(r"note: (\d+) of (\d+) learners and invoice groups checked again", again.err)
    assert told, again.err
    assert int(told[1]) < int(told[2])
    fresh = cli("scan", "--json", "--fresh")
    assert again.json()["findings"] == fresh.json()["findings"]
