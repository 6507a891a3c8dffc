"""The engine: loads the check catalogue, orders it, and runs it over evidence.

Checks are found through the `diagnose.checks` entry-point group and ordered with `graphlib`
so that a check runs after the checks it `requires`. Per target (the connection, the learner,
each invoice) a check whose requirement did not pass is `skip`; one whose requirement could not
be decided is `error` with the same cause — an unknown is never turned into a pass.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NamedTuple

from diagnose.checking import Check, Outcome
from diagnose.errors import UsageError
from diagnose.evidence import Evidence, Key, Unavailable
from diagnose.model import (
    Diagnosis,
    Finding,
    Learner,
    Problem,
    ProblemKind,
    Status,
    SubjectKind,
    Target,
    TargetKind,
    XeroInvoice,
)

ENTRY_POINT_GROUP = "diagnose.checks"
FAMILY_ORDER = ("connection", "learner", "contact", "invoice", "alerts")
_SATISFIED = (Status.PASS, Status.WARN)


class CatalogueError(Exception):
    """The installed checks do not form a usable catalogue (a plugin bug, not user input)."""


def load_catalogue() -> tuple[Check, ...]:
    """Every registered check, in an order where each comes after what it requires."""
    from importlib.metadata import entry_points  # 20 ms to import: only when checks are loaded

    found: dict[str, Check] = {}
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        module = entry.load()
        for item in _checks_in(module):
            if item.id in found and found[item.id] is not item:
                raise CatalogueError(f"check id {item.id!r} is registered twice")
            found[item.id] = item
    return order(found.values())


def _checks_in(module: ModuleType | Any) -> Iterable[Check]:
    if isinstance(module, Check):
        return [module]
    return [value for value in vars(module).values() if isinstance(value, Check)]


def order(checks: Iterable[Check]) -> tuple[Check, ...]:
    """Dependencies first; otherwise the FAQ's order (families in `FAMILY_ORDER`, then plugins),
    and within a family the order the checks are written in."""
    by_id = {c.id: c for c in checks}
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for c in by_id.values():
        unknown = [p for p in c.params if p not in FIXTURES]
        if unknown:  # a misspelt piece of evidence: said when the catalogue loads, not mid-run
            raise CatalogueError(
                f"check {c.id!r} asks for unknown evidence {', '.join(map(repr, unknown))}; "
                f"a check's parameters are among: {', '.join(sorted(FIXTURES))}"
            )
        missing = [r for r in c.requires if r not in by_id]
        if missing:
            raise CatalogueError(f"check {c.id!r} requires unknown check(s): {', '.join(missing)}")
        sorter.add(c.id, *c.requires)
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise CatalogueError(f"checks require each other in a cycle: {exc.args[1]}") from None
    position = {cid: i for i, cid in enumerate(by_id)}

    def preferred(c: Check) -> tuple[int, int]:
        family = FAMILY_ORDER.index(c.family) if c.family in FAMILY_ORDER else len(FAMILY_ORDER)
        return family, position[c.id]

    remaining = sorted(by_id.values(), key=preferred)
    placed: set[str] = set()
    result: list[Check] = []
    while remaining:
        ready = next(c for c in remaining if placed.issuperset(c.requires))
        remaining.remove(ready)
        placed.add(ready.id)
        result.append(ready)
    return tuple(result)


def select(catalogue: Sequence[Check], only: Sequence[str]) -> tuple[Check, ...]:
    """The checks named in `only`, plus what they require (run, but not reported)."""
    known = {c.id for c in catalogue}
    unknown = [cid for cid in only if cid not in known]
    if unknown:
        raise UsageError(f"unknown check id {unknown[0]!r}; 'diagnose checks' lists the catalogue")
    wanted = set(only)
    by_id = {c.id: c for c in catalogue}
    stack = list(only)
    while stack:
        for req in by_id[stack.pop()].requires:
            if req not in wanted:
                wanted.add(req)
                stack.append(req)
    return tuple(c for c in catalogue if c.id in wanted)


# ---------------------------------------------------------------------------------------------
# Fixtures: what a check's parameters are filled with


@dataclass(frozen=True)
class Context:
    evidence: Evidence
    target: Target
    invoice: XeroInvoice | None = None
    unread: Problem | None = None  # the target's records could not be read: every check errs


def _invoice_contact(ctx: Context) -> Any:
    return ctx.evidence.invoice_contact(ctx.invoice) if ctx.invoice else None


def _invoice_learner(ctx: Context) -> Learner | None:
    contact = _invoice_contact(ctx)
    learner = ctx.evidence.learner
    if contact is None or learner is None or not contact.contact_number:
        return None
    return learner if learner.learner_number == contact.contact_number else None


def _candidates_if_read(ctx: Context) -> Any:
    """The look-alike candidates, or none when the searches could not be read (for a check
    that only names a near miss among them)."""
    try:
        return ctx.evidence.candidates
    except Unavailable:
        return ()


FIXTURES: Mapping[str, Callable[[Context], Any]] = {
    "evidence": lambda ctx: ctx.evidence,
    "target": lambda ctx: ctx.target,
    "connections": lambda ctx: ctx.evidence.connections,
    "learner": lambda ctx: ctx.evidence.learner,
    "wisenet_invoices": lambda ctx: ctx.evidence.wisenet_invoices,
    "contact": lambda ctx: ctx.evidence.contact,
    "candidates": lambda ctx: ctx.evidence.candidates,
    "candidates_if_read": _candidates_if_read,
    "lookalike_invoices": lambda ctx: ctx.evidence.lookalike_invoices,
    "alerts": lambda ctx: ctx.evidence.alerts,
    "invoice": lambda ctx: ctx.invoice,
    "invoice_contact": _invoice_contact,
    "invoice_learner": _invoice_learner,
}


_APPLICABLE: dict[tuple[int, TargetKind], tuple[Sequence[Check], list[Check]]] = {}


def _applicable(catalogue: Sequence[Check], kind: TargetKind) -> list[Check]:
    """The checks of `catalogue` that apply to `kind`, worked out once a catalogue (a scan runs
    the same catalogue on tens of thousands of targets)."""
    key = (id(catalogue), kind)
    kept = _APPLICABLE.get(key)
    if kept is None or kept[0] is not catalogue:  # the catalogue is kept: its id is not reused
        if len(_APPLICABLE) > 48:  # a long-lived process that loads many catalogues
            _APPLICABLE.clear()
        kept = _APPLICABLE[key] = (catalogue, [c for c in catalogue if _applies(c, kind)])
    return kept[1]


def _applies(c: Check, kind: TargetKind) -> bool:
    if c.applies_to == "all":
        return kind is TargetKind.TENANT
    if c.applies_to == "both":
        return kind in (TargetKind.LEARNER, TargetKind.INVOICE)
    return c.applies_to == kind.value


# ---------------------------------------------------------------------------------------------
# Running


TENANT_KEY = "tenant"


def targets(evidence: Evidence, kinds: Iterable[TargetKind] | None = None) -> list[Context]:
    """The tenant, then the learner (if any), then each invoice, in the order users read them;
    or of those, the `kinds` asked for (a scan checks a learner's invoices on their own)."""
    if kinds is not None and TargetKind.INVOICE not in kinds:
        return [c for c in _targets(evidence, with_invoices=False) if c.target.kind in kinds]
    found = _targets(evidence, with_invoices=True)
    return found if kinds is None else [c for c in found if c.target.kind in kinds]


def _targets(evidence: Evidence, *, with_invoices: bool) -> list[Context]:
    subject = evidence.subject
    contexts = [Context(evidence, Target(TargetKind.TENANT, TENANT_KEY, "connections"))]
    learner = _safe(lambda: evidence.learner)
    unread = evidence.raw.problems.get(Key.WISENET_LEARNER.value)
    if subject.kind is SubjectKind.INVOICE and unread is not None:  # looked for, not read
        target = Target(TargetKind.LEARNER, "learner", "the invoice's learner")
        contexts.append(Context(evidence, target, unread=unread))
    elif subject.kind is SubjectKind.LEARNER or learner is not None:
        key = str(learner.learner_id) if learner else subject.ref
        label = learner.label if learner else f"learner {subject.ref}"
        contexts.append(Context(evidence, Target(TargetKind.LEARNER, key, label)))
    if not with_invoices:
        return contexts
    try:
        invoices: tuple[XeroInvoice, ...] = evidence.xero_invoices
    except Unavailable as exc:  # unread: every invoice check errs with the cause, none is left out
        if subject.kind is SubjectKind.LEARNER:
            target = Target(TargetKind.INVOICE, "xero-invoices", "the learner's Xero invoices")
        else:
            target = Target(TargetKind.INVOICE, subject.ref, f"invoice {subject.ref}")
        contexts.append(Context(evidence, target, unread=exc.problem))
        return contexts
    if invoices:
        for inv in invoices:
            label = f"invoice {inv.number or inv.invoice_id}"
            contexts.append(
                Context(evidence, Target(TargetKind.INVOICE, inv.invoice_id, label), inv)
            )
    elif subject.kind is SubjectKind.INVOICE:
        target = Target(TargetKind.INVOICE, subject.ref, f"invoice {subject.ref}")
        contexts.append(Context(evidence, target))
    return contexts


def _safe(get: Callable[[], Any]) -> Any:
    try:
        return get()
    except Unavailable:
        return None


def run(
    evidence: Evidence,
    catalogue: Sequence[Check],
    *,
    report: Iterable[str] | None = None,
    headline: str | None = None,
    kinds: Iterable[TargetKind] | None = None,
    settled: Iterable[Finding] = (),
    noteworthy_only: bool = False,
) -> Diagnosis:
    """Run every applicable check on every target. `report` limits which ids are returned;
    `kinds` which targets are checked (the tenant's connection checks always run, unless
    `settled` already holds their findings: a scan decides them once for every subject);
    `noteworthy_only` returns only failures, warnings and undecided checks, and builds no
    finding for the rest (a scan keeps 2 % of what it runs)."""
    shown = set(report) if report is not None else None
    wanted = {TargetKind.TENANT, *kinds} if kinds is not None else None
    results: dict[tuple[str, str], Result] = {
        (f.check_id, f.target.key): Result(f.status, f.message, f.cause) for f in settled
    }
    findings: list[Finding] = []
    if results and wanted is not None:  # the connection checks were settled: not run again
        wanted.discard(TargetKind.TENANT)
    contexts = targets(evidence, wanted)
    if results:
        contexts = [c for c in contexts if c.target.kind is not TargetKind.TENANT]
    learner_key = next((c.target.key for c in contexts if c.target.kind is TargetKind.LEARNER), "")
    for ctx in contexts:
        key = ctx.target.key
        for c in _applicable(catalogue, ctx.target.kind):
            outcome, cause = _run_one(c, ctx, results, key, learner_key)
            status = outcome.status
            results[(c.id, key)] = Result(status, outcome.message, cause)
            if (not noteworthy_only or status.noteworthy) and (shown is None or c.id in shown):
                findings.append(_finding(c, ctx, outcome, cause))
    return Diagnosis(
        subject=evidence.subject,
        headline=headline or _headline(evidence),
        mode=evidence.raw.mode,
        tenant=evidence.raw.tenant,
        taken_at=evidence.raw.taken_at,
        findings=tuple(findings),
        calls=tuple(evidence.raw.calls),
    )


def _headline(evidence: Evidence) -> str:
    """What a diagnosis is about: the learner, or the invoice (with its learner)."""
    learner = _safe(lambda: evidence.learner)
    if evidence.subject.kind is SubjectKind.INVOICE:
        invoices = _safe(lambda: evidence.xero_invoices) or ()
        number = next((i.number for i in invoices if i.number), evidence.subject.ref)
        return f"invoice {number}" + (f" · {learner.label}" if learner else "")
    return learner.label if learner else str(evidence.subject)


class Result(NamedTuple):
    """What a check decided, as the checks that require it read it."""

    status: Status
    message: str
    cause: ProblemKind | None


def _prior(
    results: Mapping[tuple[str, str], Result], check_id: str, key: str, learner_key: str
) -> Result | None:
    """What `check_id` decided for this target, else for the tenant, else for the learner."""
    return (
        results.get((check_id, key))
        or results.get((check_id, TENANT_KEY))
        or results.get((check_id, learner_key))
    )


def _finding(c: Check, ctx: Context, outcome: Outcome, cause: ProblemKind | None) -> Finding:
    show_fix = outcome.status in (Status.FAIL, Status.WARN)
    return Finding(
        check_id=c.id,
        status=outcome.status,
        title=c.title,
        message=outcome.message,
        target=ctx.target,
        fix=(outcome.fix or c.fix) if show_fix else None,
        evidence=dict(outcome.evidence),
        links=outcome.links,
        cause=cause,
        explanation=c.explanation,
    )


def _run_one(
    c: Check,
    ctx: Context,
    results: Mapping[tuple[str, str], Result],
    key: str,
    learner_key: str,
) -> tuple[Outcome, ProblemKind | None]:
    """The check's outcome on this target, and the cause when it could not be decided."""
    if ctx.unread is not None:
        return Outcome(Status.ERROR, ctx.unread.message), ctx.unread.kind
    for req in c.requires:
        prior = _prior(results, req, key, learner_key)
        if prior is None:
            return Outcome(Status.SKIP, f"not applicable here: needs {req}"), None
        if prior.status is Status.ERROR:
            why = f"could not be decided because {req} could not: {prior.message}"
            return Outcome(Status.ERROR, why), prior.cause
        if prior.status not in _SATISFIED:
            return Outcome(Status.SKIP, f"skipped: {req} did not pass"), None
    try:
        kwargs = {name: FIXTURES[name](ctx) for name in c.params}
    except Unavailable as exc:
        return Outcome(Status.ERROR, exc.problem.message), exc.problem.kind
    except KeyError as exc:
        return Outcome(Status.ERROR, f"check asks for unknown evidence {exc.args[0]!r}"), None
    try:
        outcome = c.func(**kwargs)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"returned {type(outcome).__name__}, not an Outcome")
    except Unavailable as exc:
        return Outcome(Status.ERROR, exc.problem.message), exc.problem.kind
    except Exception as exc:  # a crashing check is a result, never a crash of the run
        return Outcome(Status.ERROR, f"the check crashed: {type(exc).__name__}: {exc}"), None
    return outcome, None


__all__ = ["ENTRY_POINT_GROUP", "FIXTURES", "Key", "load_catalogue", "order", "run", "select"]
