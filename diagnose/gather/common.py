"""The gatherer every subject's gathering uses: its rounds, its fetches (a failure is kept as the
evidence's problem), the organisation chosen and the look-alike contacts asked about."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from diagnose import parse
from diagnose.errors import AmbiguousError, SourceError
from diagnose.evidence import Key, RawEvidence
from diagnose.model import Problem, ProblemKind, Service, Subject
from diagnose.refs import GUID, LearnerRef
from diagnose.sources.reads import Reader
from diagnose.sources.xero import ID_BATCH, is_safe_code

MISSING: Any = object()
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


class Gatherer:
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
            return MISSING
        self.raw.payloads[key] = value
        return value

    def missing(self, key: Key, why: str) -> None:
        service = Service(key.value.split(".", 1)[0])
        self.raw.problems[key] = Problem(service, ProblemKind.NOT_FETCHED, why)

    def choose_tenant(self, connections: Any) -> bool:
        """Use the first connected organisation unless the profile named one; a live diagnosis
        is labelled with that organisation's name. One named but not connected is a setting to
        correct, said at once (Xero would refuse each call for it as if the sign-in were bad)."""
        xero = self.sources.xero
        if connections is not MISSING and (wrong := unconnected(connections, self.sources)):
            raise wrong
        named = organisation(connections if connections is not MISSING else [], xero.tenant_id)
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
        if body is MISSING:
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


def organisation(connections: Any, tenant_id: str | None) -> Mapping[str, Any] | None:
    """The connection a session works on: the one with `tenant_id` when the profile or the
    sign-in named one, else the first organisation (never a practice); None when there is none.
    Diagnoses, the scan and the remedies all choose with this."""
    records = [r for r in connections if isinstance(r, Mapping)] if connections else []
    if tenant_id:
        return next((r for r in records if parse.text(r, "tenantId") == tenant_id), None)
    return next((r for r in records if parse.text(r, "tenantType") == "ORGANISATION"), None)


def unconnected(connections: Any, sources: Reader) -> SourceError | None:
    """The organisation `sources.xero` names (`named_by` a profile's setting or a sign-in) when
    Xero's connections, read, list others and not it: Xero answers every call for it with a 403
    that reads like refused credentials. None when it is listed, or none is named."""
    xero = sources.xero
    profile = sources.tenant if sources.mode == "live" else ""  # a live source's: the profile
    records = [r for r in connections if isinstance(r, Mapping)] if connections else []
    if not xero.tenant_id or not records or organisation(records, xero.tenant_id) is not None:
        return None
    reached = ", ".join(
        f"{parse.text(r, 'tenantName') or '(unnamed)'} ({parse.text(r, 'tenantId')})"
        for r in records
    )
    if xero.named_by == "profile":
        what, fix = (
            "the profile's xero_tenant_id",
            "correct or remove xero_tenant_id in the profile",
        )
    else:
        what = "chosen at sign-in"
        again = f"diagnose connect xero --profile {profile}" if profile else "diagnose connect xero"
        fix = f"sign in again ({again}) and choose the organisation Wisenet is connected to"
    return SourceError(
        Problem(
            Service.XERO,
            ProblemKind.WRONG_ADDRESS,
            f"Xero organisation {xero.tenant_id} ({what}) is not connected to this app, which "
            f"reaches {reached}: {fix}",
        )
    )


def contacts_of(body: Any) -> list[Mapping[str, Any]]:
    rows = body.get("Contacts") if isinstance(body, Mapping) else None
    return [r for r in rows or [] if isinstance(r, Mapping)]


def lookalike_ids(payloads: Mapping[str, Any]) -> list[str]:
    """The contacts whose invoices may be stuck: those the searches found without a Contact
    Code, and the one the learner's coded contact was merged into. The scan asks the same."""
    ids = [
        parse.text(record, "ContactID")
        for key in (Key.XERO_SEARCH_NAME, Key.XERO_SEARCH_EMAIL)
        for record in contacts_of(payloads.get(key))
        if not parse.text(record, "ContactNumber").strip()
    ]
    ids += [parse.text(r, "MergedToContactID") for r in contacts_of(payloads.get(Key.XERO_CONTACT))]
    return sorted({i for i in ids if GUID.fullmatch(i)})[:ID_BATCH]


def pick(g: Gatherer, ref: LearnerRef, matches: list[Any]) -> Any:
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
