"""Fidelity: Xero's official Python SDK (xero-python), pointed at `diagnose sandbox serve`, reads,
writes and fails there as it does at Xero. What a real client accepts, the sandbox must too, and
what Xero refuses, the sandbox must refuse the same way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_serve import TENANT_ID, served, token
from xero_python.accounting import AccountingApi, Contact, Contacts
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import (
    AccountingBadRequestException,
    HTTPStatusException,
    NotFoundException,
    RateLimitException,
)
from xero_python.identity import IdentityApi

from diagnose.sandbox.responses import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

LOOK_ALIKE_108 = "2cc82b84-3bd3-5af7-8354-a10f4c01eb5a"  # lost its Contact Code in a merge


@dataclass
class Sdk:
    base: str
    accounting: AccountingApi
    identity: IdentityApi
    tenant: str
    data_dir: Path


def clients(base: str, access: dict[str, Any]) -> tuple[AccountingApi, IdentityApi]:
    configuration = Configuration(
        oauth2_token=OAuth2Token(client_id=SANDBOX_CLIENT_ID, client_secret=SANDBOX_CLIENT_SECRET)
    )
    client = ApiClient(
        configuration,
        oauth2_token_getter=lambda: access,
        oauth2_token_saver=lambda saved: None,
    )
    return AccountingApi(client, base_url=f"{base}/api.xro/2.0"), IdentityApi(client, base)


@pytest.fixture
def sdk(data_dir: Path) -> Iterator[Sdk]:
    with served(data_dir, "--rate-limit", "xero=5000/min") as base:
        accounting, identity = clients(base, token(base).json())
        (connection,) = identity.get_connections()
        yield Sdk(base, accounting, identity, connection.tenant_id, data_dir)


def test_the_sdk_lists_connections_and_reads_the_organisation(sdk: Sdk) -> None:
    (connection,) = sdk.identity.get_connections()
    assert (connection.tenant_name, connection.tenant_type) == ("Demo RTO Pty Ltd", "ORGANISATION")
    (organisation,) = sdk.accounting.get_organisations(sdk.tenant).organisations
    assert organisation.name == "Demo RTO Pty Ltd"
    assert organisation.short_code.startswith("!")
    assert organisation.timezone.value == "AUSEASTERNSTANDARDTIME"


def test_the_sdk_reads_contacts_with_where_order_paging_and_archived(sdk: Sdk) -> None:
    api, tenant = sdk.accounting, sdk.tenant
    (olivia,) = api.get_contacts(tenant, where='ContactNumber=="STD0000101"').contacts
    assert (olivia.name, olivia.contact_status) == ("Olivia Nguyen", "ACTIVE")
    active = api.get_contacts(tenant, page=1).contacts
    everyone = api.get_contacts(tenant, page=1, include_archived=True).contacts
    archived = [c.name for c in everyone if c.contact_status == "ARCHIVED"]
    assert archived
    assert not [c for c in active if c.contact_status == "ARCHIVED"]
    filtered = api.get_contacts(
        tenant, where='ContactStatus=="ARCHIVED"', include_archived=True, page=1
    ).contacts
    assert sorted(c.name for c in filtered) == sorted(archived)
    names = [c.name for c in api.get_contacts(tenant, order="Name DESC", page=1).contacts]
    assert names == sorted(names, key=str.casefold, reverse=True)
    first = api.get_contacts(tenant, page=1, page_size=5, include_archived=True)
    second = api.get_contacts(tenant, page=2, page_size=5, include_archived=True)
    assert len(first.contacts) == len(second.contacts) == 5
    assert first.pagination.item_count == len(everyone)
    assert not {c.contact_id for c in first.contacts} & {c.contact_id for c in second.contacts}
    smiths = api.get_contacts(tenant, where='Name.Contains("smith")', page=1).contacts
    assert {c.name for c in smiths} >= {"James Smith"}
    merged = [c for c in everyone if c.merged_to_contact_id]
    assert merged  # learner 108's merge is visible to a paged read
    assert api.get_contact_by_contact_number(tenant, "STD0000101").contacts[0].name == (
        "Olivia Nguyen"
    )


def test_the_sdk_reads_invoices_with_where(sdk: Sdk) -> None:
    api, tenant = sdk.accounting, sdk.tenant
    every = api.get_invoices(tenant, page=1).invoices
    assert {i.invoice_number for i in every} >= {"INV-0042", "INV-0110", "BILL-0112"}
    drafts = api.get_invoices(tenant, where='Status=="DRAFT"', page=1).invoices
    assert [i.invoice_number for i in drafts] == ["INV-0110"]
    sales = api.get_invoices(tenant, where='Type=="ACCREC" AND Status=="AUTHORISED"').invoices
    assert all(i.type == "ACCREC" and i.status == "AUTHORISED" for i in sales)
    invoice = next(i for i in every if i.invoice_number == "INV-0042")
    (full,) = api.get_invoice(tenant, invoice.invoice_id).invoices
    assert full.line_items
    assert full.contact.contact_number == "STD0000123"


def test_the_sdk_sets_a_contact_code_once_with_an_idempotency_key(sdk: Sdk) -> None:
    api, tenant = sdk.accounting, sdk.tenant
    (before,) = api.get_contact(tenant, LOOK_ALIKE_108).contacts
    assert not before.contact_number
    before.contact_number = "STD0000108"  # the whole model goes back, read-only fields and all
    for _ in range(2):
        answer = api.update_contact(
            tenant, LOOK_ALIKE_108, Contacts(contacts=[before]), idempotency_key="fix-108-once"
        )
        assert answer.contacts[0].contact_number == "STD0000108"
    log = sdk.data_dir / "sandbox" / "demo.writes.jsonl"
    writes = [json.loads(line)["write"] for line in log.read_text().splitlines()]
    assert writes == [f"POST /api.xro/2.0/Contacts/{LOOK_ALIKE_108} ContactNumber=STD0000108"]
    (olivia,) = api.get_contacts(tenant, where='ContactNumber=="STD0000108"').contacts
    assert olivia.contact_id == LOOK_ALIKE_108


def test_the_sdk_meets_xero_s_exceptions(sdk: Sdk, data_dir: Path) -> None:
    api, tenant = sdk.accounting, sdk.tenant
    bad_email = Contacts(contacts=[Contact(contact_id=LOOK_ALIKE_108, email_address="not-mail")])
    with pytest.raises(AccountingBadRequestException) as validation:
        api.update_contact(tenant, LOOK_ALIKE_108, bad_email)
    assert validation.value.status == 400
    assert validation.value.reason == "Email address must be valid."
    assert validation.value.error_data["Type"] == "ValidationException"

    with pytest.raises(NotFoundException):
        api.get_contact(tenant, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(NotFoundException):
        api.get_contact_by_contact_number(tenant, "NOBODY-1")

    with pytest.raises(HTTPStatusException) as forbidden:
        api.get_contacts("11111111-1111-1111-1111-111111111111")  # not a connected organisation
    assert forbidden.value.status == 403
    assert json.loads(forbidden.value.body)["Detail"] == "AuthenticationUnsuccessful"

    forged = {"access_token": "not-a-token", "token_type": "Bearer", "expires_in": 1800}
    stranger, _ = clients(sdk.base, {**forged, "scope": "accounting.contacts"})
    with pytest.raises(HTTPStatusException) as unauthorised:
        stranger.get_contacts(tenant)
    assert unauthorised.value.status == 401

    # a ContactNumber over 50 characters: the SDK refuses it before sending, Xero would too
    headers = {
        "Authorization": f"Bearer {token(sdk.base).json()['access_token']}",
        "xero-tenant-id": tenant,
    }
    long_code = {"Contacts": [{"ContactID": LOOK_ALIKE_108, "ContactNumber": "X" * 51}]}
    refused = httpx.post(
        f"{sdk.base}/api.xro/2.0/Contacts/{LOOK_ALIKE_108}", headers=headers, json=long_code
    )
    assert refused.status_code == 400
    assert refused.json()["Elements"][0]["ValidationErrors"][0]["Message"] == (
        "The Contact Number must not be more than 50 characters long."
    )


def test_the_sdk_meets_a_rate_limit_as_at_xero(data_dir: Path) -> None:
    # every read of contacts answered 429 with a Retry-After of 0: the SDK's HTTP library waits
    # that out a few times (as it would at Xero), then gives up with Xero's exception
    fault = {"method": "GET", "path": "/api.xro/2.0/Contacts", "status": 429, "retry_after": 0}
    with served(data_dir, "--faults", json.dumps([fault])) as base:
        accounting, _ = clients(base, token(base).json())
        with pytest.raises(RateLimitException) as limited:
            accounting.get_contacts(TENANT_ID, page=1)
        assert limited.value.status == 429
        assert limited.value.rate_limit == "minute"
        assert limited.value.error_message == "You've exceeded the per minute rate limit"
