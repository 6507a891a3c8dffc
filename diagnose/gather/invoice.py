"""An invoice's evidence: the invoice (with its contact), then its learner and the contact by its
Contact Code, then the learner's Xero Invoices tab and look-alike searches."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

from diagnose import parse
from diagnose.errors import NotFoundError, SourceError
from diagnose.evidence import Key, RawEvidence
from diagnose.gather.common import MISSING, Gatherer, contacts_of, pick
from diagnose.model import Problem, ProblemKind, Subject, SubjectKind
from diagnose.refs import GUID, InvoiceRef, LearnerRef
from diagnose.sources.reads import Reader, XeroReads
from diagnose.sources.xero import is_safe_code, is_safe_number


async def gather_invoice(ref: InvoiceRef, sources: Reader, *, typed: str) -> RawEvidence:
    g = Gatherer(sources, Subject(SubjectKind.INVOICE, typed))
    wisenet, xero = sources.wisenet, sources.xero
    if not xero.tenant_id and not xero.bound:  # which organisation to ask: first, on its own
        (connections,) = await g.wave(g.fetch(Key.XERO_CONNECTIONS, xero.connections()))
        if not g.choose_tenant(connections):
            g.missing(Key.XERO_INVOICES, "not asked: no Xero organisation is connected")
            return g.raw
        connections_call: Awaitable[Any] = g.nothing()
    else:  # named, or a custom connection's own: asked side by side with the invoice
        connections_call = g.fetch(Key.XERO_CONNECTIONS, xero.connections())
    if ref.kind == "id":
        lookups = [g.fetch(Key.XERO_INVOICES, _invoice_by_id(xero, ref.value))]
    else:  # the list finds every invoice of that number; on its own, one comes with its contact
        lookups = [g.fetch(Key.XERO_INVOICES, xero.invoices(numbers=[ref.value]))]
        if is_safe_number(ref.value):
            lookups.append(_quietly(xero.invoice_by_number(ref.value)))
    body, connections, *whole = await g.wave(*lookups[:1], connections_call, *lookups[1:])
    if connections is not None:  # (None: read above) the organisation's name labels it
        g.choose_tenant(connections)
    if body is MISSING:
        return g.raw
    if ref.kind == "number" and not body.get("Invoices"):  # "inv-0042": as Xero's search finds it
        found = await g.wave(g.fetch(Key.XERO_INVOICES, xero.invoices(search_term=ref.value)))
        if found[0] is MISSING:
            return g.raw
        wanted = ref.value.casefold()
        body = {
            "Invoices": [
                i
                for i in found[0].get("Invoices", [])
                if isinstance(i, Mapping) and parse.text(i, "InvoiceNumber").casefold() == wanted
            ]
        }
        g.raw.payloads[Key.XERO_INVOICES] = body
    elif whole:  # the invoice fetched on its own stands for its row of the list: same invoice,
        body = _with_whole_contacts(
            body, whole[0]
        )  # with its whole contact (and so its Contact Code)
        g.raw.payloads[Key.XERO_INVOICES] = body
    rows = [i for i in body.get("Invoices", []) if isinstance(i, Mapping)]
    invoices = [g.sources.parsed(parse.invoice, i) for i in rows]
    if not invoices:
        raise NotFoundError(
            f"no Xero invoice has {'InvoiceID' if ref.kind == 'id' else 'number'} "
            f"{ref.value!r} ({sources.mode} tenant {sources.tenant!r})"
        )
    summary_code = next((i.contact_number for i in invoices if i.contact_number), None)
    code = summary_code.strip() if summary_code else None
    # The contact that holds the Contact Code is read by its code (with the learner, side by
    # side); only the invoices' other contacts are read by ContactID: no contact is read twice.
    # (A code shaped like a ContactID is read by Xero as one: that contact is read by its ID.)
    by_code = bool(code) and is_safe_code(code or "") and not GUID.fullmatch(code or "")
    others = sorted({i.contact_id for i in invoices if not (by_code and i.contact_number == code)})
    await g.wave(
        *([_learner_by_code(g, code)] if code else []),
        *([_read_invoice_contacts(g, others)] if others else []),
    )
    if code is None:
        unread = g.raw.problems.get(Key.XERO_INVOICE_CONTACTS)
        if unread is not None:  # not "no Contact Code": we could not tell
            g.raw.problems[Key.WISENET_LEARNER] = Problem(
                unread.service,
                unread.kind,
                f"the learner was not asked: the invoice's contact could not be read "
                f"({unread.message})",
            )
            return g.raw
        codes = [
            parse.text(c, "ContactNumber").strip()
            for c in contacts_of(g.raw.payloads.get(Key.XERO_INVOICE_CONTACTS))
        ]
        code = next((c for c in codes if c), None)
        if code is None:
            return g.raw  # no Contact Code: no learner to look at
        await g.wave(_learner_by_code(g, code))
    if others:  # the code's contact read by code is one of the invoices' contacts too
        _also_invoice_contact(g)
    item = g.raw.payloads.get(Key.WISENET_LEARNER)
    if isinstance(item, Mapping) and (learner := g.sources.parsed(parse.learner, item)):
        rest = [g.fetch(Key.WISENET_INVOICES, wisenet.invoices(learner.learner_id))]
        rest += [
            g.fetch(Key.XERO_SEARCH_NAME, xero.contacts(search_term=learner.full_name))
            if learner.full_name
            else g.nothing()
        ]
        if learner.email.strip():
            rest.append(
                g.fetch(Key.XERO_SEARCH_EMAIL, xero.contacts(search_term=learner.email.strip()))
            )
        await g.wave(*rest)
        if not learner.full_name:
            g.raw.payloads[Key.XERO_SEARCH_NAME] = {"Contacts": []}
    return g.raw


async def _quietly(call: Awaitable[Any]) -> Any:
    """An answer that only saves a round: when it fails, the diagnosis goes the longer way."""
    try:
        return await call
    except SourceError as exc:
        if exc.problem.kind is ProblemKind.WRONG_ADDRESS:
            raise
        return None


def _with_whole_contacts(body: Any, whole: Any) -> Any:
    """The list's invoices, each replaced by the same invoice fetched on its own (which carries
    its contact whole) where there is one."""
    by_id = {
        parse.text(i, "InvoiceID").lower(): i
        for i in (whole or {}).get("Invoices", [])
        if isinstance(i, Mapping)
    }
    return {
        **body,
        "Invoices": [
            by_id.get(parse.text(i, "InvoiceID").lower(), i) if isinstance(i, Mapping) else i
            for i in body.get("Invoices", [])
        ],
    }


async def _read_invoice_contacts(g: Gatherer, ids: Sequence[str]) -> None:
    await g.fetch(Key.XERO_INVOICE_CONTACTS, g.sources.xero.contacts_by_ids(ids))


def _also_invoice_contact(g: Gatherer) -> None:
    """Add the contact read by its code to the invoices' contacts read by ContactID."""
    held = g.raw.payloads.get(Key.XERO_INVOICE_CONTACTS)
    if not isinstance(held, Mapping):
        return
    ids = {parse.text(c, "ContactID") for c in contacts_of(held)}
    coded = [
        c
        for c in contacts_of(g.raw.payloads.get(Key.XERO_CONTACT))
        if parse.text(c, "ContactID") not in ids
    ]
    if coded:
        g.raw.payloads[Key.XERO_INVOICE_CONTACTS] = {"Contacts": [*contacts_of(held), *coded]}


async def _invoice_by_id(xero: XeroReads, invoice_id: str) -> Any:
    body = await xero.invoice(invoice_id)
    return body if body is not None else {"Invoices": []}


async def _learner_by_code(g: Gatherer, code: str) -> None:
    """The learner whose RefInternal is `code`, with that code's contact, side by side."""
    wisenet, xero = g.sources.wisenet, g.sources.xero
    contact_call: Awaitable[Any] = (
        g.fetch(Key.XERO_CONTACT, xero.contact_by_number(code))
        if is_safe_code(code)
        else g.nothing()
    )
    matches, _ = await g.together(
        g.fetch(Key.WISENET_MATCHES, wisenet.find_learners(number=code)), contact_call
    )
    if not is_safe_code(code):
        g.raw.payloads[Key.XERO_CONTACT] = None
    if matches is MISSING:
        g.raw.problems[Key.WISENET_LEARNER] = g.raw.problems[Key.WISENET_MATCHES]
        return
    g.raw.payloads[Key.WISENET_LEARNER] = pick(g, LearnerRef("number", code), matches)
