"""Gathering: few calls, no user text in a Xero `where`, and honest errors when a service fails."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from diagnose import runner
from diagnose.errors import ExitCode, findings_exit_code
from diagnose.gather import gather_invoice, gather_learner, gather_learner_contact
from diagnose.model import Diagnosis, ProblemKind, Status
from diagnose.refs import parse_invoice_ref, parse_learner_ref
from diagnose.remedy.synced import WAIT_CHECKS
from diagnose.sandbox import demo_tenant_path
from diagnose.sandbox.app import create_app
from diagnose.sandbox.tenant import Tenant, load_tenant, parse_tenant
from diagnose.sources.sandbox import sandbox_sources

Seen = list[tuple[str, dict[str, list[str]]]]


def watched(tenant: Tenant, seen: Seen, fault: Callable[[str], Any] | None = None) -> Any:
    """The sandbox app, recording each request and optionally answering some with a fault."""
    app = create_app(tenant)

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.append((scope["path"], parse_qs(scope["query_string"].decode())))
            answer = fault(scope["path"]) if fault else None
            if isinstance(answer, BaseException):
                raise answer
            if answer is not None:
                status, headers, *body = answer
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body[0] if body else b"{}"})
                return
        await app(scope, receive, send)

    return wrapped


def diagnose_with(
    kind: str, typed: str, tenant: Tenant, seen: Seen, fault: Callable[[str], Any] | None = None
) -> Diagnosis:
    async def go() -> Any:
        async with sandbox_sources(tenant, app=watched(tenant, seen, fault)) as sources:
            if kind == "learner":
                return await gather_learner(parse_learner_ref(typed), sources, typed=typed)
            return await gather_invoice(parse_invoice_ref(typed), sources, typed=typed)

    return runner.diagnose(asyncio.run(go()))


def wait_check_of(
    learner_id: int, tenant: Tenant, seen: Seen, fault: Callable[[str], Any] | None = None
) -> Diagnosis:
    """What a wait after a re-toggle reads and decides at each check."""

    async def go() -> Any:
        async with sandbox_sources(tenant, app=watched(tenant, seen, fault)) as sources:
            return await gather_learner_contact(learner_id, sources)

    return runner.diagnose(asyncio.run(go()), WAIT_CHECKS)


def demo() -> Tenant:
    return load_tenant(demo_tenant_path())


def statuses(d: Diagnosis) -> dict[str, Status]:
    return {f.check_id: f.status for f in d.findings if f.target.kind.value != "invoice"}


def test_learner_by_id_is_seven_calls_in_two_rounds() -> None:
    seen: Seen = []
    d = diagnose_with("learner", "123", demo(), seen)
    assert len(d.calls) == len(seen) == 7
    assert d.rounds == 2
    assert {c.path.split("?")[0] for c in d.calls if c.round == 1} == {
        "/v1/learnersAU/123",
        "/v1/invoices",
        "/connections",
    }


def test_a_wait_s_check_decides_what_the_diagnosis_does_from_three_calls() -> None:
    """For every learner of the demo (synced, archived, merged, never synced, incomplete), the
    learner's contact alone decides each check a wait reads as the whole diagnosis does."""
    for learner in demo().learners:
        learner_id = learner["LearnerId"]
        seen: Seen = []
        lean = wait_check_of(learner_id, demo(), seen)
        assert len(lean.calls) == len(seen) == 3
        assert lean.rounds == 2
        assert not any("searchTerm" in q or path.endswith("/Invoices") for path, q in seen)
        whole = statuses(diagnose_with("learner", str(learner_id), demo(), []))
        assert statuses(lean) == {c: whole[c] for c in statuses(lean)}, learner_id
        assert set(statuses(lean)) == set(WAIT_CHECKS), learner_id


def test_a_wait_s_check_with_a_service_down_is_undecided_never_synced() -> None:
    def wisenet_down(path: str) -> Any:
        return httpx.ConnectError("refused") if path.startswith("/v1") else None

    seen: Seen = []
    found = statuses(wait_check_of(101, demo(), seen, wisenet_down))
    assert found["learner.found"] is Status.ERROR
    assert found["contact.found"] is Status.ERROR
    assert not any(path.startswith("/api.xro") for path, _ in seen)
    found = statuses(wait_check_of(101, demo(), [], xero_down))
    assert found["learner.full-name"] is Status.PASS  # Wisenet's answer still stands
    assert {found[c] for c in ("contact.found", "contact.active", "contact.in-sync")} == {
        Status.ERROR
    }


HOSTILE_NAMES = [
    ('Jo "JJ"', 'O\'Neil" || Name!=null || Name=="'),
    ("Zoë", 'Ngā"puhi\\'),
    ("A&B", "C%2B+D"),
]


@pytest.mark.parametrize(("first", "last"), HOSTILE_NAMES)
def test_learner_text_never_reaches_a_where_expression(first: str, last: str) -> None:
    document = json.loads(demo_tenant_path().read_text())
    learner = next(x for x in document["wisenet"]["learners"] if x["LearnerId"] == 101)
    learner["Personal"].update(FirstName=first, LastName=last, LearnerNumber='STD"1 || x')
    seen: Seen = []
    d = diagnose_with("learner", "101", parse_tenant(document), seen)
    wheres = [q["where"][0] for _, q in seen if "where" in q]
    assert all(re.fullmatch(r'Contact\.ContactNumber=="[A-Za-z0-9._-]+"', w) for w in wheres)
    searched = [q["searchTerm"][0] for _, q in seen if "searchTerm" in q]
    assert f"{first} {last}" in searched  # the name travels only as a plain search value
    assert all(f.status is not Status.ERROR for f in d.findings)
    assert statuses(d)["contact.found"] is Status.FAIL  # nobody holds that odd code


def test_an_odd_contact_code_is_found_by_search_and_exact_match() -> None:
    document = json.loads(demo_tenant_path().read_text())
    code = "STD 101/ä"
    learner = next(x for x in document["wisenet"]["learners"] if x["LearnerId"] == 101)
    learner["Personal"]["LearnerNumber"] = code
    for contact in document["xero"]["contacts"]:
        if contact["ContactNumber"] == "STD0000101":
            contact["ContactNumber"] = code
    seen: Seen = []
    d = diagnose_with("learner", "101", parse_tenant(document), seen)
    assert not any("where" in q for _, q in seen)
    assert statuses(d)["contact.found"] is Status.PASS
    assert {f.target.label for f in d.findings if f.check_id == "invoice.in-wisenet"} == {
        "invoice INV-0001",
        "invoice INV-0002",
    }
    invoices_call = next(c for c in d.calls if "ContactIDs=" in c.path)
    assert invoices_call.round == d.rounds == 3  # it had to wait for the search


def rate_limited(path: str) -> Any:
    if path.startswith("/api.xro"):
        return 429, [(b"retry-after", b"30"), (b"x-rate-limit-problem", b"minute")]
    return None


def xero_down(path: str) -> Any:
    if path.startswith(("/api.xro", "/connections")):
        return httpx.ConnectError("connection refused")
    return None


def xero_slow(path: str) -> Any:
    return httpx.ReadTimeout("slow") if path.startswith("/api.xro") else None


def xero_refuses(path: str) -> Any:
    return (401, []) if path.startswith(("/api.xro", "/connections")) else None


def xero_broken(path: str) -> Any:
    return (503, []) if path.startswith("/api.xro") else None


@pytest.mark.parametrize(
    ("fault", "code", "cause"),
    [
        (rate_limited, ExitCode.RATE_LIMITED, "rate-limited"),
        (xero_slow, ExitCode.RATE_LIMITED, "timeout"),
        (xero_down, ExitCode.UNREACHABLE, "unreachable"),
        (xero_refuses, ExitCode.UNREACHABLE, "auth"),
        (xero_broken, ExitCode.UNREACHABLE, "bad-response"),
    ],
)
def test_a_failing_xero_gives_errors_never_a_wrong_verdict(
    fault: Callable[[str], Any], code: ExitCode, cause: str
) -> None:
    d = diagnose_with("learner", "123", demo(), [], fault)
    found = statuses(d)
    assert found["learner.sync-enabled"] is Status.FAIL  # Wisenet's answer still stands
    for check_id in ("contact.found", "contact.active", "contact.duplicates", "contact.in-sync"):
        assert found[check_id] is Status.ERROR, check_id
    errors = [f for f in d.findings if f.status is Status.ERROR]
    assert {f.cause.value for f in errors if f.cause} == {cause}
    assert findings_exit_code(d.findings) == code


def test_a_rate_limit_message_says_when_to_retry() -> None:
    d = diagnose_with("learner", "123", demo(), [], rate_limited)
    message = next(f.message for f in d.findings if f.check_id == "contact.found")
    assert "rate-limited us (minute limit); retry after 30 s" in message


def test_wisenet_down_errors_the_learner_and_does_not_ask_xero_for_it() -> None:
    def wisenet_down(path: str) -> Any:
        return httpx.ConnectError("refused") if path.startswith("/v1") else None

    seen: Seen = []
    d = diagnose_with("learner", "123", demo(), seen, wisenet_down)
    assert statuses(d)["connection.wisenet"] is Status.ERROR
    assert statuses(d)["learner.found"] is Status.ERROR
    assert not any(path.startswith("/api.xro") for path, _ in seen)
    assert findings_exit_code(d.findings) == ExitCode.UNREACHABLE
    assert all(f.status is not Status.PASS for f in d.findings if f.check_id != "connection.xero")


def test_only_the_search_failing_errors_only_the_duplicates_check() -> None:
    def search_limited(path: str) -> Any:
        return (429, []) if path == "/api.xro/2.0/Contacts" else None

    d = diagnose_with("learner", "101", demo(), [], search_limited)
    assert {f.check_id for f in d.findings if f.status is Status.ERROR} == {"contact.duplicates"}
    assert findings_exit_code(d.findings) == ExitCode.RATE_LIMITED


def test_a_truncated_body_is_a_bad_response_for_the_checks_that_need_it() -> None:
    def truncated(path: str) -> Any:
        return (
            (200, [], b'{"Contacts": [{"ContactID": tru')
            if path == "/api.xro/2.0/Contacts"
            else None
        )

    d = diagnose_with("learner", "101", demo(), [], truncated)
    duplicates = next(f for f in d.findings if f.check_id == "contact.duplicates")
    assert duplicates.status is Status.ERROR
    assert duplicates.message == "Xero sent a body that is not valid JSON"
    assert statuses(d)["contact.found"] is Status.PASS


@pytest.mark.parametrize(
    ("kind", "typed", "spoiled", "body", "errors"),
    [
        ("learner", "123", "/v1/learnersAU/123", b"[]", "learner.found"),
        ("learner", "123", "/v1/invoices", b'{"Data": []}', None),
        ("learner", "101", "/api.xro/2.0/Contacts", b"[]", "contact.duplicates"),
        ("learner", "123", "/api.xro/2.0/Invoices", b'{"Message": "OK"}', None),
        ("learner", "123", "/api.xro/2.0/Contacts/STD0000123", b"{}", "contact.found"),
        ("invoice", "INV-0042", "/v1/learnersAU", b"{}", "invoice.contact-learner"),
    ],
)
def test_valid_json_of_the_wrong_shape_is_an_error_never_nothing_there(
    kind: str, typed: str, spoiled: str, body: bytes, errors: str | None
) -> None:
    """Read as "no learner" or "no invoices", such an answer would pass or fail checks on
    evidence that was never given."""
    d = diagnose_with(
        kind, typed, demo(), [], lambda path: (200, [], body) if path == spoiled else None
    )
    found = {f.check_id: f for f in d.findings}
    in_error = [f for f in d.findings if f.status is Status.ERROR]
    assert in_error, "no finding admits the answer was unusable"
    service = "Wisenet" if spoiled.startswith("/v1") else "Xero"
    assert any(f"{service} sent an answer of an unexpected shape" in f.message for f in in_error)
    assert all(f.cause is not None for f in in_error)
    if errors is not None:
        assert found[errors].status is Status.ERROR
    assert findings_exit_code(d.findings) == ExitCode.UNREACHABLE


@pytest.mark.parametrize("number", ["INV-0042", "BILL-0112"])
def test_an_invoices_learner_that_cannot_be_read_errs_never_vanishes(number: str) -> None:
    """Even where the invoice checks stop early (a bill fails invoice.type), the learner's
    checks say they could not be decided, and the exit code says the diagnosis is incomplete."""

    def wisenet_down(path: str) -> Any:
        return (503, []) if path.startswith("/v1") else None

    d = diagnose_with("invoice", number, demo(), [], wisenet_down)
    learner = [f for f in d.findings if f.target.kind.value == "learner"]
    assert {f.check_id for f in learner} >= {"learner.found", "learner.sync-enabled"}
    assert {(f.status, f.cause) for f in learner} == {(Status.ERROR, ProblemKind.BAD_RESPONSE)}
    assert findings_exit_code(d.findings) == ExitCode.UNREACHABLE


def test_invoice_whose_contact_has_no_code_stops_before_wisenet() -> None:
    seen: Seen = []
    d = diagnose_with("invoice", "INV-0050", demo(), seen)
    assert not any(path.startswith("/v1") for path, _ in seen)
    assert {f.check_id: f.status for f in d.findings}["invoice.contact-code"] is Status.FAIL


def test_invoice_by_number_is_three_rounds_reading_its_contact_once() -> None:
    """The invoice fetched on its own brings its contact's Contact Code, so the learner and the
    contact are asked in round 2 and the learner's invoices and look-alikes in round 3; the
    contact holding the code is read by its code alone, not again by its ContactID."""
    seen: Seen = []
    d = diagnose_with("invoice", "INV-0001", demo(), seen)
    assert d.rounds == 3
    contact_reads = [
        p for p, q in seen if p.startswith("/api.xro/2.0/Contacts") and "searchTerm" not in q
    ]
    assert contact_reads == ["/api.xro/2.0/Contacts/STD0000101"]
    assert {f.check_id: f.status for f in d.findings}["invoice.in-wisenet"] is Status.PASS


def test_an_invoice_fetched_alone_does_not_say_where_its_contact_was_merged() -> None:
    """As Xero: `MergedToContactID` comes with a contact read by ContactID or Contact Code (or
    paged), not inside an invoice — the sandbox is no more generous."""
    tenant = demo()
    merged = next(c for c in tenant.contacts if c.get("MergedToContactID"))
    invoice = {
        "InvoiceID": "0b7c1f3e-5d2a-4c8e-9f10-222233334444",
        "InvoiceNumber": "INV-MERGED-1",
        "Type": "ACCREC",
        "Status": "AUTHORISED",
        "Contact": {"ContactID": merged["ContactID"]},
        "Total": 10.0,
        "AmountDue": 10.0,
    }
    tenant.invoices.append(invoice)
    seen: Seen = []
    d = diagnose_with("invoice", "INV-MERGED-1", tenant, seen)
    found = {f.check_id: f for f in d.findings if f.target.kind.value == "invoice"}
    assert found["invoice.contact-merged"].status is Status.FAIL  # read from the contact itself

    async def alone() -> Any:
        async with sandbox_sources(tenant) as sources:
            return await sources.xero.invoice_by_number("INV-MERGED-1")

    body = asyncio.run(alone())
    assert body["Invoices"][0]["Contact"]["ContactID"] == merged["ContactID"]
    assert "MergedToContactID" not in body["Invoices"][0]["Contact"]


def test_an_invoice_by_number_says_what_it_says_by_id() -> None:
    """Every invoice of a generated tenant (merges, look-alikes, codes between spaces): asked
    for by its number, the same findings as asked for by its InvoiceID."""
    from diagnose.sandbox.generate import generate

    document, _ = generate(25, 5)
    coded = [c for c in document["xero"]["contacts"] if c.get("ContactNumber")]
    for contact in coded[::7]:
        contact["ContactNumber"] = f" {contact['ContactNumber']} "
    tenant = parse_tenant(document)
    numbers: dict[str, int] = {}
    for invoice in document["xero"]["invoices"]:
        numbers[invoice["InvoiceNumber"]] = numbers.get(invoice["InvoiceNumber"], 0) + 1
    differ = []
    for invoice in document["xero"]["invoices"]:
        if numbers[invoice["InvoiceNumber"]] > 1:
            continue

        def said(typed: str) -> set[tuple[str, str, str, str]]:
            d = diagnose_with("invoice", typed, tenant, [])
            return {(f.target.key, f.check_id, f.status.value, f.message) for f in d.findings}

        by_number, by_id = said(invoice["InvoiceNumber"]), said(invoice["InvoiceID"])
        if by_number != by_id:
            differ.append((invoice["InvoiceNumber"], by_number ^ by_id))
    assert differ == []


def test_a_contact_code_shaped_like_a_contactid_is_not_taken_for_the_invoices_contact() -> None:
    """Xero reads `/Contacts/{guid}` as a ContactID: an invoice whose contact's Contact Code
    looks like one has its contact read by its own ContactID, never replaced by another."""
    tenant = demo()
    contact = next(c for c in tenant.contacts if c.get("ContactNumber") == "STD0000101")
    other = next(c for c in tenant.contacts if c is not contact)
    contact["ContactNumber"] = other["ContactID"]  # the code names another contact's ID
    d = diagnose_with("invoice", "INV-0001", tenant, [])
    found = {f.check_id: f for f in d.findings if f.target.kind.value == "invoice"}
    assert found["invoice.contact-code"].status is Status.PASS
    assert contact["Name"] in found["invoice.contact-merged"].message


def test_an_organisation_chosen_at_sign_in_then_disconnected_asks_for_a_new_sign_in() -> None:
    """The organisation a PKCE sign-in chose, no longer among the app's connections (someone
    disconnected it in Xero): the person is told to sign in again, with the command for their
    profile, and which organisations the app does reach."""
    from types import SimpleNamespace

    from diagnose.gather import unconnected

    connections = [
        {"tenantId": "aaaa", "tenantName": "Demo RTO Pty Ltd", "tenantType": "ORGANISATION"},
        {"tenantId": "bbbb", "tenantName": "Northern Campus", "tenantType": "ORGANISATION"},
    ]

    def live(tenant_id: str) -> Any:  # a live profile's sources, as far as this reads them
        xero = SimpleNamespace(tenant_id=tenant_id, named_by="sign-in")
        return SimpleNamespace(xero=xero, mode="live", tenant="college")

    signed_in = live("cccc")
    wrong = unconnected(connections, signed_in)
    assert wrong is not None
    assert wrong.problem.kind is ProblemKind.WRONG_ADDRESS
    assert wrong.problem.message == (
        "Xero organisation cccc (chosen at sign-in) is not connected to this app, which reaches "
        "Demo RTO Pty Ltd (aaaa), Northern Campus (bbbb): sign in again (diagnose connect xero "
        "--profile college) and choose the organisation Wisenet is connected to"
    )
    assert unconnected(connections, live("bbbb")) is None
    assert unconnected([], signed_in) is None  # none connected: connection.xero says so
