"""Gather: fetch everything one subject needs, concurrently, in as few rounds as possible.

For a learner given by LearnerId the critical path is two rounds:

    round 1   Wisenet learner · Wisenet invoices · Xero /connections
    round 2   Xero contact by Contact Code · contact search by name · by email ·
              Xero invoices of that Contact Code

Anything that cannot be fetched is recorded as a `Problem` under its evidence key, so the checks
that need it report `error` with the cause while the rest of the diagnosis still stands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from diagnose import parse
from diagnose.errors import AmbiguousError, NotFoundError, SourceError
from diagnose.evidence import Key, RawEvidence
from diagnose.model import Problem, ProblemKind, Service, Subject, SubjectKind
from diagnose.refs import GUID, InvoiceRef, LearnerRef
from diagnose.sources.reads import Reader, XeroReads
from diagnose.sources.xero import ID_BATCH, is_safe_code, is_safe_number

_MISSING: Any = object()
T = TypeVar("T")


def at_once(work: Coroutine[Any, Any, T]) -> T:
    """The result of gathering from an in-memory `Reader`, where nothing ever waits: run to the
    end without an event loop (a scan gathers tens of thousands of subjects this way)."""
    try:
        work.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    work.close()
    raise RuntimeError("an in-memory read waited for something")


class _Gatherer:
    def __init__(self, sources: Reader, subject: Subject) -> None:
        self.sources = sources
        self.raw = RawEvidence(subject=subject, mode=sources.mode, tenant=sources.tenant)
        self.raw.calls = sources.log.calls
        if sources.alerts is not None:
            self.raw.payloads[Key.EVENT_ALERTS] = sources.alerts

    async def wave(self, *fetches: Awaitable[Any]) -> list[Any]:
        """One round of concurrent calls."""
        self.sources.log.round += 1
        return await self.together(*fetches)

    async def together(self, *fetches: Awaitable[Any]) -> list[Any]:
        """Calls made side by side (one after the other when nothing waits)."""
        if self.sources.in_memory:
            answers: list[Any] = []
            for fetch in fetches:
                try:
                    answers.append(await fetch)
                except Exception as exc:
                    answers.append(exc)
        else:
            answers = await asyncio.gather(*fetches, return_exceptions=True)
        for answer in answers:  # every call of the round has ended before one's error is raised
            if isinstance(answer, BaseException):
                raise answer
        return list(answers)

    async def fetch(self, key: Key, call: Awaitable[Any]) -> Any:
        try:
            value = await call
        except SourceError as exc:
            if exc.problem.kind is ProblemKind.WRONG_ADDRESS:
                raise  # a setting is wrong: no check can be decided, say which one at once
            self.raw.problems[key] = exc.problem
            return _MISSING
        self.raw.payloads[key] = value
        return value

    def missing(self, key: Key, why: str) -> None:
        service = Service(key.value.split(".", 1)[0])
        self.raw.problems[key] = Problem(service, ProblemKind.NOT_FETCHED, why)

    def choose_tenant(self, connections: Any) -> bool:
        """Use the first connected organisation unless the profile named one; a live diagnosis
        is labelled with that organisation's name."""
        xero = self.sources.xero
        named = organisation(connections if connections is not _MISSING else [], xero.tenant_id)
        if named is None:
            return bool(xero.tenant_id)  # a named organisation is asked even if not listed
        xero.tenant_id = parse.text(named, "tenantId")
        if self.sources.mode == "live":
            self.raw.tenant = parse.text(named, "tenantName") or self.raw.tenant
        return True

    async def nothing(self) -> None:
        return None

    # -- the learner's Xero side ----------------------------------------------------------------

    def xero_for_learner(self, item: Mapping[str, Any]) -> list[Awaitable[Any]]:
        """Round-2 calls for a learner: contact by code, look-alike searches, invoices."""
        learner = self.sources.parsed(parse.learner, item)
        if learner is None:
            return []
        xero = self.sources.xero
        code = learner.learner_number
        calls: list[Awaitable[Any]] = []
        if is_safe_code(code):
            calls.append(self.fetch(Key.XERO_CONTACT, xero.contact_by_number(code)))
            calls.append(self.fetch(Key.XERO_INVOICES, xero.invoices(contact_code=code)))
        else:
            calls.append(self.contact_by_odd_code(code))
        if learner.full_name:
            calls.append(
                self.fetch(Key.XERO_SEARCH_NAME, xero.contacts(search_term=learner.full_name))
            )
        else:
            self.raw.payloads[Key.XERO_SEARCH_NAME] = {"Contacts": []}
        if learner.email.strip():
            email = learner.email.strip()
            calls.append(self.fetch(Key.XERO_SEARCH_EMAIL, xero.contacts(search_term=email)))
        return calls

    async def contact_by_odd_code(self, code: str) -> None:
        """A Contact Code that cannot go in a path or `where`: search for it, match exactly, then
        read that contact's invoices by ContactID (one extra round, only in this rare case)."""
        if not code:
            self.raw.payloads[Key.XERO_CONTACT] = None
            self.raw.payloads[Key.XERO_INVOICES] = {"Invoices": []}
            return
        body = await self.fetch(Key.XERO_CONTACT, self.sources.xero.contacts(search_term=code))
        if body is _MISSING:
            self.missing(
                Key.XERO_INVOICES, "Xero invoices were not asked: the contact search failed"
            )
            return
        exact = [
            c
            for c in (body or {}).get("Contacts", [])
            if isinstance(c, Mapping) and parse.text(c, "ContactNumber") == code  # exactly
        ]
        self.raw.payloads[Key.XERO_CONTACT] = {"Contacts": exact[:1]} if exact else None
        if not exact:
            self.raw.payloads[Key.XERO_INVOICES] = {"Invoices": []}
            return
        contact_id = parse.text(exact[0], "ContactID")
        self.sources.log.round += 1  # this call waits for the search: a round of its own
        await self.fetch(Key.XERO_INVOICES, self.sources.xero.invoices(contact_ids=[contact_id]))

    def lookalike_ids(self) -> list[str]:
        return lookalike_ids(self.raw.payloads)

    def xero_unavailable(self, keys: Sequence[Key], why: str) -> None:
        for key in keys:
            self.missing(key, why)


_LEARNER_XERO_KEYS = (Key.XERO_CONTACT, Key.XERO_INVOICES, Key.XERO_SEARCH_NAME)


def organisation(connections: Any, tenant_id: str | None) -> Mapping[str, Any] | None:
    """The connection a session works on: the one with `tenant_id` when the profile or the
    sign-in named one, else the first organisation (never a practice); None when there is none.
    Diagnoses, the scan and the remedies all choose with this."""
    records = [r for r in connections if isinstance(r, Mapping)] if connections else []
    if tenant_id:
        return next((r for r in records if parse.text(r, "tenantId") == tenant_id), None)
    return next((r for r in records if parse.text(r, "tenantType") == "ORGANISATION"), None)


def _contacts(body: Any) -> list[Mapping[str, Any]]:
    rows = body.get("Contacts") if isinstance(body, Mapping) else None
    return [r for r in rows or [] if isinstance(r, Mapping)]


def lookalike_ids(payloads: Mapping[str, Any]) -> list[str]:
    """The contacts whose invoices may be stuck: those the searches found without a Contact
    Code, and the one the learner's coded contact was merged into. The scan asks the same."""
    ids = [
        parse.text(record, "ContactID")
        for key in (Key.XERO_SEARCH_NAME, Key.XERO_SEARCH_EMAIL)
        for record in _contacts(payloads.get(key))
        if not parse.text(record, "ContactNumber").strip()
    ]
    ids += [parse.text(r, "MergedToContactID") for r in _contacts(payloads.get(Key.XERO_CONTACT))]
    return sorted({i for i in ids if GUID.fullmatch(i)})[:ID_BATCH]


async def gather_learner(ref: LearnerRef, sources: Reader, *, typed: str) -> RawEvidence:
    g = _Gatherer(sources, Subject(SubjectKind.LEARNER, typed))
    wisenet, xero = sources.wisenet, sources.xero
    if ref.kind == "id":
        item, _, connections = await g.wave(
            g.fetch(Key.WISENET_LEARNER, wisenet.learner(ref.learner_id)),
            g.fetch(Key.WISENET_INVOICES, wisenet.invoices(ref.learner_id)),
            g.fetch(Key.XERO_CONNECTIONS, xero.connections()),
        )
    else:
        lookup = (
            wisenet.find_learners(number=ref.value)
            if ref.kind == "number"
            else wisenet.find_learners(search=ref.value)
        )
        matches, connections = await g.wave(
            g.fetch(Key.WISENET_MATCHES, lookup),
            g.fetch(Key.XERO_CONNECTIONS, xero.connections()),
        )
        item = _MISSING if matches is _MISSING else _pick(g, ref, matches)
        if item is _MISSING:
            g.raw.problems[Key.WISENET_LEARNER] = g.raw.problems[Key.WISENET_MATCHES]
        else:
            g.raw.payloads[Key.WISENET_LEARNER] = item
    if item is None:
        raise NotFoundError(
            f"no Wisenet learner has {ref.describe()} {ref.value!r} "
            f"({sources.mode} tenant {sources.tenant!r})"
        )
    if item is _MISSING:
        g.missing(Key.WISENET_INVOICES, "the learner's invoices were not asked: no learner")
        g.xero_unavailable(_LEARNER_XERO_KEYS, "not asked: the Wisenet learner could not be read")
        return g.raw
    round_two: list[Awaitable[Any]] = []
    if Key.WISENET_INVOICES not in g.raw.payloads and Key.WISENET_INVOICES not in g.raw.problems:
        learner = g.sources.parsed(parse.learner, item)
        if learner is not None:
            round_two.append(g.fetch(Key.WISENET_INVOICES, wisenet.invoices(learner.learner_id)))
    if g.choose_tenant(connections):
        round_two.extend(g.xero_for_learner(item))
    else:
        g.xero_unavailable(_LEARNER_XERO_KEYS, "not asked: no Xero organisation is connected")
    if round_two:
        await g.wave(*round_two)
    others = g.lookalike_ids()
    if others:  # a third round only when there are look-alikes: their invoices may be stuck
        await g.wave(
            g.fetch(Key.XERO_LOOKALIKE_INVOICES, sources.xero.invoices(contact_ids=others))
        )
    return g.raw


def _pick(g: _Gatherer, ref: LearnerRef, matches: list[Any]) -> Any:
    """The one learner a RefInternal or name means; None when none; UsageError when several."""
    parsed = [
        (m, learner)
        for m in matches
        if isinstance(m, Mapping) and (learner := g.sources.parsed(parse.learner, m)) is not None
    ]
    wanted = ref.value.casefold()
    if ref.kind == "number":
        exact = [m for m, learner in parsed if learner.learner_number.casefold() == wanted]
        return exact[0] if exact else None
    chosen = [(m, x) for m, x in parsed if x.full_name.casefold() == wanted] or parsed
    if len(chosen) == 1:
        return chosen[0][0]
    if not chosen:
        return None
    lines = "\n".join(
        f"  {x.learner_id:>8}  {x.learner_number:<12} {x.full_name}" for _, x in chosen[:20]
    )
    more = f"\n  … and {len(chosen) - 20} more" if len(chosen) > 20 else ""
    raise AmbiguousError(
        f"{len(chosen)} learners match {ref.value!r}; run again with one LearnerId:\n{lines}{more}",
        [(x.learner_id, x.learner_number, x.full_name) for _, x in chosen],
    )


async def gather_invoice(ref: InvoiceRef, sources: Reader, *, typed: str) -> RawEvidence:
    g = _Gatherer(sources, Subject(SubjectKind.INVOICE, typed))
    wisenet, xero = sources.wisenet, sources.xero
    if not xero.tenant_id:
        (connections,) = await g.wave(g.fetch(Key.XERO_CONNECTIONS, xero.connections()))
        if not g.choose_tenant(connections):
            g.missing(Key.XERO_INVOICES, "not asked: no Xero organisation is connected")
            return g.raw
        connections_call: Awaitable[Any] = g.nothing()
    else:
        connections_call = g.fetch(Key.XERO_CONNECTIONS, xero.connections())
    if ref.kind == "id":
        lookups = [g.fetch(Key.XERO_INVOICES, _invoice_by_id(xero, ref.value))]
    else:  # the list finds every invoice of that number; on its own, one comes with its contact
        lookups = [g.fetch(Key.XERO_INVOICES, xero.invoices(numbers=[ref.value]))]
        if is_safe_number(ref.value):
            lookups.append(_quietly(xero.invoice_by_number(ref.value)))
    body, _, *whole = await g.wave(*lookups[:1], connections_call, *lookups[1:])
    if body is _MISSING:
        return g.raw
    if ref.kind == "number" and not body.get("Invoices"):  # "inv-0042": as Xero's search finds it
        found = await g.wave(g.fetch(Key.XERO_INVOICES, xero.invoices(search_term=ref.value)))
        if found[0] is _MISSING:
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
        body = _with_contacts(body, whole[0])  # with its whole contact (and so its Contact Code)
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
    others = sorted(
        {
            i.contact_id
            for i in invoices
            if not (code and is_safe_code(code) and i.contact_number == code)
        }
    )
    await g.wave(
        *([_learner_by_code(g, code)] if code else []),
        *([_invoice_contacts(g, others)] if others else []),
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
            for c in _contacts(g.raw.payloads.get(Key.XERO_INVOICE_CONTACTS))
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


def _with_contacts(body: Any, whole: Any) -> Any:
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


async def _invoice_contacts(g: _Gatherer, ids: Sequence[str]) -> None:
    await g.fetch(Key.XERO_INVOICE_CONTACTS, g.sources.xero.contacts_by_ids(ids))


def _also_invoice_contact(g: _Gatherer) -> None:
    """Add the contact read by its code to the invoices' contacts read by ContactID."""
    held = g.raw.payloads.get(Key.XERO_INVOICE_CONTACTS)
    if not isinstance(held, Mapping):
        return
    ids = {parse.text(c, "ContactID") for c in _contacts(held)}
    coded = [
        c
        for c in _contacts(g.raw.payloads.get(Key.XERO_CONTACT))
        if parse.text(c, "ContactID") not in ids
    ]
    if coded:
        g.raw.payloads[Key.XERO_INVOICE_CONTACTS] = {"Contacts": [*_contacts(held), *coded]}


async def _invoice_by_id(xero: XeroReads, invoice_id: str) -> Any:
    body = await xero.invoice(invoice_id)
    return body if body is not None else {"Invoices": []}


async def _learner_by_code(g: _Gatherer, code: str) -> None:
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
    if matches is _MISSING:
        g.raw.problems[Key.WISENET_LEARNER] = g.raw.problems[Key.WISENET_MATCHES]
        return
    g.raw.payloads[Key.WISENET_LEARNER] = _pick(g, LearnerRef("number", code), matches)
