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

_LEARNER_XERO_KEYS = (Key.XERO_CONTACT, Key.XERO_INVOICES, Key.XERO_SEARCH_NAME)


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
        raise NotFoundError(
            f"no Wisenet learner has {ref.describe()} {ref.value!r} "
            f"({sources.mode} tenant {sources.tenant!r})"
        )
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
