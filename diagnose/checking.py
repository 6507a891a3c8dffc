"""The API a check is written against — the same for the built-in catalogue and for plugins.

A check is a plain function decorated with `@check`. Its docstring is the plain-language
explanation; `fix` says what to do when it fails. Its parameters name the evidence it needs and
are filled in by the engine: the names are those of `diagnose.engine.FIXTURES`, and a check that
asks for any other is refused when the catalogue loads. It returns an `Outcome` and never raises
for a failed condition; a check that raises anyway is reported as `error` and the run goes on.

A third-party package adds checks by exposing a module through the `diagnose.checks` entry-point
group; every `Check` object at the module's top level is registered.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from diagnose.model import Status
from diagnose.textsafe import flowed

Applies = Literal["all", "learner", "invoice", "both"]


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    message: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[str, ...] = ()
    fix: str | None = None  # overrides the check's own fix, for a fix that depends on the data


def passed(message: str, *, links: tuple[str, ...] = (), **evidence: Any) -> Outcome:
    return Outcome(Status.PASS, message, evidence, links)


def warned(
    message: str, *, fix: str | None = None, links: tuple[str, ...] = (), **evidence: Any
) -> Outcome:
    return Outcome(Status.WARN, message, evidence, links, fix)


def failed(
    message: str, *, fix: str | None = None, links: tuple[str, ...] = (), **evidence: Any
) -> Outcome:
    return Outcome(Status.FAIL, message, evidence, links, fix)


def skipped(message: str, **evidence: Any) -> Outcome:
    return Outcome(Status.SKIP, message, evidence)


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    applies_to: Applies
    requires: tuple[str, ...]
    explanation: str
    fix: str
    func: Callable[..., Outcome]
    params: tuple[str, ...]
    family: str = ""

    def __call__(self, **kwargs: Any) -> Outcome:
        return self.func(**kwargs)


def check(
    id: str,
    *,
    title: str,
    applies_to: Applies,
    fix: str,
    requires: tuple[str, ...] = (),
) -> Callable[[Callable[..., Outcome]], Check]:
    """Register a function as the check `id`."""

    def decorate(func: Callable[..., Outcome]) -> Check:
        return Check(
            id=id,
            title=title,
            applies_to=applies_to,
            requires=requires,
            explanation=flowed(func.__doc__ or ""),  # wrapped to fit the source: one line
            fix=flowed(fix),
            func=func,
            params=tuple(inspect.signature(func).parameters),
            family=id.split(".", 1)[0],
        )

    return decorate


def contact_state(status: str) -> str:
    """A contact's status in words: a GDPR request is not "archived", nor an odd status either."""
    return {
        "ACTIVE": "active",
        "ARCHIVED": "archived",
        "GDPRREQUEST": "under a GDPR erasure request",
    }.get(status, f"in status {status}")


def near_miss(code: str, wanted: str) -> str:
    """How a Contact Code differs from the RefInternal it was meant to be — "letter case",
    "surrounding spaces" or both — when that is all; else "". The integration matches exactly."""
    if not code or code == wanted or code.strip().casefold() != wanted.casefold():
        return ""
    spaces = code != code.strip()
    case = code.strip() != wanted
    return " and ".join(
        how for how, differs in (("letter case", case), ("surrounding spaces", spaces)) if differs
    )


def xero_contact_link(contact_id: str) -> str:
    return f"https://go.xero.com/Contacts/View/{contact_id}"


def xero_invoice_link(invoice_id: str, invoice_type: str = "ACCREC") -> str:
    ledger = "AccountsPayable" if invoice_type.startswith("ACCPAY") else "AccountsReceivable"
    if invoice_type.endswith("CREDIT"):
        return f"https://go.xero.com/{ledger}/ViewCreditNote.aspx?creditNoteID={invoice_id}"
    return f"https://go.xero.com/{ledger}/View.aspx?InvoiceID={invoice_id}"
