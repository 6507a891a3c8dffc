"""The public surface for checks — the built-in catalogue's and a plugin's alike.

A package adds checks by exposing a module through the `diagnose.checks` entry-point group; every
`Check` at its top level is registered. Write a check against these names only: what is not
listed in `__all__` may change between releases.

    from diagnose.api import Outcome, Learner, check, failed, passed

    @check("learner.has-usi", title="A USI is recorded", applies_to="learner",
           fix="In Wisenet open the learner › Personal Details and fill in the USI.")
    def has_usi(learner: Learner | None) -> Outcome:
        \"\"\"Without a USI the learner cannot be reported; the sync does not need it.\"\"\"
        ...

A check's parameters name the evidence it needs (`EVIDENCE`); any other name is refused when the
catalogue loads.
"""

from __future__ import annotations

from diagnose.checking import (
    Applies,
    Check,
    Outcome,
    check,
    contact_state,
    failed,
    near_miss,
    passed,
    skipped,
    warned,
    xero_contact_link,
    xero_invoice_link,
)
from diagnose.evidence import Evidence, Unavailable
from diagnose.lookalikes import Resemblance, lookalikes, near_misses, resemblance
from diagnose.model import (
    Address,
    EventAlert,
    Learner,
    Problem,
    Service,
    Status,
    SubjectKind,
    Target,
    TargetKind,
    WisenetInvoice,
    XeroAddress,
    XeroContact,
    XeroInvoice,
)
from diagnose.textsafe import counted

EVIDENCE = (  # what a check's parameters may be called, and what each is given
    "alerts",  # the Event Alerts rows naming the record (when an export was given)
    "candidates",  # the Xero contacts the searches by name and email found
    "candidates_if_read",  # the same, or none when the searches could not be read
    "connections",  # Xero's /connections
    "contact",  # the Xero contact holding the learner's Contact Code, or None
    "evidence",  # all of it (`Evidence`)
    "invoice",  # the Xero invoice checked (invoice checks)
    "invoice_contact",  # that invoice's contact
    "invoice_learner",  # the Wisenet learner its Contact Code names, or None
    "learner",  # the Wisenet learner, or None
    "lookalike_invoices",  # the invoices on the learner's look-alike contacts
    "target",  # what the finding is about (`Target`)
    "wisenet_invoices",  # the learner's Xero Invoices tab in Wisenet
)

__all__ = [
    "EVIDENCE",
    "Address",
    "Applies",
    "Check",
    "EventAlert",
    "Evidence",
    "Learner",
    "Outcome",
    "Problem",
    "Resemblance",
    "Service",
    "Status",
    "SubjectKind",
    "Target",
    "TargetKind",
    "Unavailable",
    "WisenetInvoice",
    "XeroAddress",
    "XeroContact",
    "XeroInvoice",
    "check",
    "contact_state",
    "counted",
    "failed",
    "lookalikes",
    "near_miss",
    "near_misses",
    "passed",
    "resemblance",
    "skipped",
    "warned",
    "xero_contact_link",
    "xero_invoice_link",
]
