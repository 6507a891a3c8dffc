"""A learner's evidence: two rounds by LearnerId (three when look-alike contacts hold invoices)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from diagnose import parse
from diagnose.errors import NotFoundError
from diagnose.evidence import Key, RawEvidence
from diagnose.gather.common import MISSING, Gatherer, pick
from diagnose.model import Subject, SubjectKind
from diagnose.refs import LearnerRef
from diagnose.sources.reads import Reader
from diagnose.sources.xero import is_safe_code

_LEARNER_XERO_KEYS = (Key.XERO_CONTACT, Key.XERO_INVOICES, Key.XERO_SEARCH_NAME)
_NOT_ASKED_IN_A_WAIT = "not asked: a wait's check reads the learner and its Xero contact only"


async def gather_learner(ref: LearnerRef, sources: Reader, *, typed: str) -> RawEvidence:
    g = Gatherer(sources, Subject(SubjectKind.LEARNER, typed))
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
        item = MISSING if matches is MISSING else pick(g, ref, matches)
        if item is MISSING:
            g.raw.problems[Key.WISENET_LEARNER] = g.raw.problems[Key.WISENET_MATCHES]
        else:
            g.raw.payloads[Key.WISENET_LEARNER] = item
    if item is None:
        raise _not_found(ref, sources)
    if item is MISSING:
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


async def gather_learner_contact(learner_id: int, sources: Reader) -> RawEvidence:
    """What each check of a wait after a re-toggle reads: the learner and the Xero contact with
    its Contact Code, in two rounds (one Wisenet call and two Xero calls, where a whole
    diagnosis makes seven): enough to tell whether the learner has reached Xero, or is held
    there. Its invoices and look-alike contacts are not asked."""
    ref = LearnerRef("id", str(learner_id))
    g = Gatherer(sources, Subject(SubjectKind.LEARNER, ref.value))
    item, connections = await g.wave(
        g.fetch(Key.WISENET_LEARNER, sources.wisenet.learner(learner_id)),
        g.fetch(Key.XERO_CONNECTIONS, sources.xero.connections()),
    )
    if item is None:
        raise _not_found(ref, sources)
    g.missing(Key.WISENET_INVOICES, _NOT_ASKED_IN_A_WAIT)
    g.xero_unavailable((Key.XERO_SEARCH_NAME, Key.XERO_SEARCH_EMAIL), _NOT_ASKED_IN_A_WAIT)
    learner = None if item is MISSING else g.sources.parsed(parse.learner, item)
    contact = (Key.XERO_CONTACT, Key.XERO_INVOICES)
    if learner is None:
        g.xero_unavailable(contact, "not asked: the Wisenet learner could not be read")
    elif not g.choose_tenant(connections):
        g.xero_unavailable(contact, "not asked: no Xero organisation is connected")
    elif is_safe_code(code := learner.learner_number):
        g.missing(Key.XERO_INVOICES, _NOT_ASKED_IN_A_WAIT)
        await g.wave(g.fetch(Key.XERO_CONTACT, sources.xero.contact_by_number(code)))
    else:
        await g.wave(g.contact_by_odd_code(code))  # a search, and its invoices when found
    return g.raw


def _not_found(ref: LearnerRef, sources: Reader) -> NotFoundError:
    return NotFoundError(
        f"no Wisenet learner has {ref.describe()} {ref.value!r} "
        f"({sources.mode} tenant {sources.tenant!r})"
    )
