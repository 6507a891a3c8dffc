"""The sandbox answers like the real APIs: paths, auth headers, shapes, paging and error bodies."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from diagnose.sandbox import demo_tenant_path
from diagnose.sandbox.app import SANDBOX_API_KEY, SANDBOX_TOKEN, create_app
from diagnose.sandbox.tenant import load_tenant, parse_tenant

TENANT = load_tenant(demo_tenant_path())
XERO = {"Authorization": f"Bearer {SANDBOX_TOKEN}", "xero-tenant-id": str(TENANT.tenant_id)}
WISENET = {"x-api-key": SANDBOX_API_KEY}


def get(path: str, headers: dict[str, str], app: Any = None, **params: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app or create_app(TENANT))
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            return await client.get(path, params=params, headers=headers)

    return asyncio.run(go())


def test_wisenet_learner_item_has_data_and_relationships() -> None:
    body = get("/v1/learnersAU/123", WISENET).json()
    assert body["Data"]["Personal"]["LearnerNumber"] == "STD0000123"
    assert [s["ShortDescription"] for s in body["Relationships"]["States"]] == ["NSW"]
    assert [c["Description"] for c in body["Relationships"]["Countries"]] == ["Australia"]


def test_wisenet_refuses_a_missing_key_and_404s_an_unknown_learner() -> None:
    assert get("/v1/learnersAU/123", {}).status_code == 401
    assert get("/v1/learnersAU/123", {"x-api-key": "wrong"}).status_code == 401
    missing = get("/v1/learnersAU/9999", WISENET)
    assert missing.status_code == 404
    assert "Message" in missing.json()


def test_wisenet_filters_and_pages() -> None:
    by_number = get("/v1/learnersAU", WISENET, learnerNumberFilter="STD0000107").json()
    assert [x["Data"]["LearnerId"] for x in by_number] == [107]
    assert len(get("/v1/learnersAU", WISENET, skip=2, take=3).json()) == 3
    assert get("/v1/learnersAU", WISENET, take=5000).status_code == 400
    assert get("/v1/invoices", WISENET, learnerIdFilter="abc").status_code == 400
    rows = get("/v1/invoices", WISENET, learnerIdFilter=101).json()
    assert {r["Data"]["InvoiceNumber"] for r in rows} == {"INV-0001", "INV-0002"}


def test_xero_needs_a_bearer_token_and_a_connected_tenant() -> None:
    assert get("/connections", {}).status_code == 401
    assert (
        get("/connections", {"Authorization": f"Bearer {SANDBOX_TOKEN}"}).json()[0]["tenantName"]
        == "Demo RTO Pty Ltd"
    )
    unnamed = get("/api.xro/2.0/Contacts", {"Authorization": f"Bearer {SANDBOX_TOKEN}"})
    assert unnamed.status_code == 403  # a token not bound to one organisation must name it
    wrong_tenant = get("/api.xro/2.0/Contacts", {**XERO, "xero-tenant-id": "nope"})
    assert wrong_tenant.status_code == 403
    assert wrong_tenant.json()["Detail"] == "AuthenticationUnsuccessful"


def test_xero_contact_by_number_includes_archived_and_404s_as_text() -> None:
    found = get("/api.xro/2.0/Contacts/STD0000123", XERO)
    assert found.json()["Contacts"][0]["ContactStatus"] == "ARCHIVED"
    assert found.headers["xero-correlation-id"]
    assert int(found.headers["x-minlimit-remaining"]) < 60
    missing = get("/api.xro/2.0/Contacts/STD0009999", XERO)
    assert (missing.status_code, missing.text) == (
        404,
        "The resource you're looking for cannot be found",
    )


def test_xero_dates_are_ms_json_with_escaped_slashes_on_the_wire() -> None:
    raw = get("/api.xro/2.0/Contacts/STD0000101", XERO).text
    assert '"\\/Date(' in raw
    assert json.loads(raw)["Contacts"][0]["UpdatedDateUTC"].startswith("/Date(")


def test_xero_leaves_archived_contacts_out_unless_asked() -> None:
    plain = get("/api.xro/2.0/Contacts", XERO, searchTerm="Jane Citizen").json()
    assert plain["Contacts"] == []
    archived = get(
        "/api.xro/2.0/Contacts", XERO, searchTerm="jane citizen", includeArchived="true"
    ).json()
    assert [c["ContactNumber"] for c in archived["Contacts"]] == ["STD0000123"]


def test_xero_merged_to_is_only_in_paged_lists() -> None:
    params = {"searchTerm": "Isabella", "includeArchived": "true"}
    unpaged = get("/api.xro/2.0/Contacts", XERO, **params).json()["Contacts"]
    paged = get("/api.xro/2.0/Contacts", XERO, page=1, **params).json()["Contacts"]
    assert not any("MergedToContactID" in c for c in unpaged)
    assert any("MergedToContactID" in c for c in paged)


def test_xero_pages_by_100_with_a_pagination_object() -> None:
    document = json.loads(demo_tenant_path().read_text())
    base = document["xero"]["contacts"][0]
    document["xero"]["contacts"] = [
        {**base, "ContactID": f"00000000-0000-0000-0000-{i:012d}", "ContactNumber": f"X{i}"}
        for i in range(250)
    ]
    app = create_app(parse_tenant(document))
    third = get("/api.xro/2.0/Contacts", XERO, app=app, page=3).json()
    assert third["pagination"] == {"page": 3, "pageSize": 100, "pageCount": 3, "itemCount": 250}
    assert len(third["Contacts"]) == 50


def test_xero_invoice_lists_filter_by_number_and_contact_code() -> None:
    by_number = get("/api.xro/2.0/Invoices", XERO, InvoiceNumbers="INV-0001,INV-0110", page=1)
    assert {i["InvoiceNumber"] for i in by_number.json()["Invoices"]} == {"INV-0001", "INV-0110"}
    assert "ContactNumber" not in by_number.json()["Invoices"][0]["Contact"]  # a summary
    by_code = get(
        "/api.xro/2.0/Invoices", XERO, where='Contact.ContactNumber=="STD0000117"', page=1
    )
    assert {i["InvoiceNumber"] for i in by_code.json()["Invoices"]} == {"INV-0117", "CN-0117"}


def test_xero_where_is_read_as_xero_reads_it_so_an_injection_would_work_there_too() -> None:
    # why user text never goes into a `where`: a quote closes the string, and the rest is query
    every = get("/api.xro/2.0/Invoices", XERO, page=1).json()["Invoices"]
    injected = get(
        "/api.xro/2.0/Invoices",
        XERO,
        where='Contact.ContactNumber=="x" || Contact.ContactNumber!=null',
        page=1,
    )
    assert len(injected.json()["Invoices"]) == len(every)
    drafts = get("/api.xro/2.0/Invoices", XERO, where='Status=="DRAFT"', page=1)
    assert [i["InvoiceNumber"] for i in drafts.json()["Invoices"]] == ["INV-0110"]


@pytest.mark.parametrize(
    "where",
    ['Contact.ContactNumber=="x', "Status DRAFT", 'Name.Matches("x")', '(Status=="DRAFT")'],
)
def test_a_where_xero_cannot_parse_is_a_query_parse_error(where: str) -> None:
    response = get("/api.xro/2.0/Invoices", XERO, where=where, page=1)
    assert response.status_code == 400
    assert response.json()["Type"] == "QueryParseException"


def test_xero_rejects_ids_that_are_not_guids() -> None:
    response = get("/api.xro/2.0/Invoices", XERO, IDs="1 OR 1=1")
    assert response.status_code == 400
    assert response.json()["Type"] == "ValidationException"


def post(path: str, body: Any, headers: dict[str, str], app: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            return await client.post(path, json=body, headers=headers)

    return asyncio.run(go())


def test_a_contact_code_write_with_the_same_idempotency_key_is_applied_once() -> None:
    tenant = load_tenant(demo_tenant_path())
    writes: list[int] = []
    app = create_app(tenant, on_write=lambda what: writes.append(1))
    survivor = next(
        c
        for c in tenant.contacts
        if c["Name"] == "Isabella Rossi" and c["ContactStatus"] == "ACTIVE"
    )
    body = {"Contacts": [{"ContactID": survivor["ContactID"], "ContactNumber": "STD0000108"}]}
    headers = {**XERO, "Idempotency-Key": "key-1"}
    first = post(f"/api.xro/2.0/Contacts/{survivor['ContactID']}", body, headers, app)
    again = post(f"/api.xro/2.0/Contacts/{survivor['ContactID']}", body, headers, app)
    assert first.status_code == again.status_code == 200
    assert first.json()["Contacts"] == again.json()["Contacts"]
    assert writes == [1]


def test_xero_refuses_a_contact_code_another_contact_holds() -> None:
    tenant = load_tenant(demo_tenant_path())
    app = create_app(tenant)
    contact = next(c for c in tenant.contacts if c["ContactNumber"] == "STD0000101")
    body = {"Contacts": [{"ContactID": contact["ContactID"], "ContactNumber": "STD0000123"}]}
    answer = post(f"/api.xro/2.0/Contacts/{contact['ContactID']}", body, XERO, app)
    assert answer.status_code == 400
    message = answer.json()["Elements"][0]["ValidationErrors"][0]["Message"]
    assert message.startswith(
        "The contact number STD0000123 is already assigned to another contact"
    )


def send(method: str, path: str, headers: dict[str, str], body: str, app: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            return await client.request(method, path, content=body, headers=headers)

    return asyncio.run(go())


def test_writes_are_all_or_nothing_and_refused_as_the_services_refuse() -> None:
    tenant = load_tenant(demo_tenant_path())
    app = create_app(tenant)
    half = json.dumps(
        [
            {"op": "replace", "path": "Personal/SyncToXero", "value": True},
            {"op": "replace", "path": "Personal/FirstName", "value": {"x": 1}},
        ]
    )
    answer = send("PATCH", "/v1/learnersAU/103", WISENET, half, app)
    assert answer.status_code == 400
    assert "Message" in answer.json()
    learner = get("/v1/learnersAU/103", WISENET, app=app).json()["Data"]["Personal"]
    assert learner["SyncToXero"] is False  # the first operation was not applied either
    assert isinstance(learner["FirstName"], str)
    deep = "[" * 100_000 + "]" * 100_000
    assert send("PATCH", "/v1/learnersAU/103", WISENET, deep, app).status_code == 400
    contact_id = next(c["ContactID"] for c in tenant.contacts if c.get("ContactNumber"))
    path = f"/api.xro/2.0/Contacts/{contact_id}"
    envelope = {"Contacts": [{"ContactID": contact_id, "ContactNumber": None}]}
    kept = send("POST", path, XERO, json.dumps(envelope), app)
    assert kept.status_code == 200
    assert kept.json()["Contacts"][0]["ContactNumber"] not in ("None", None)  # null: unset
    envelope["Contacts"][0]["ContactNumber"] = "X" * 100_000
    too_long = send("POST", path, XERO, json.dumps(envelope), app)
    assert too_long.status_code == 400
    assert "50 characters" in too_long.text
    assert send("POST", path, XERO, deep, app).status_code == 400
