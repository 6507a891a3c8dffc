"""The remedies — the only writes diagnose makes: re-toggle "Sync to Xero", and restore a lost
Contact Code. Each is planned first (the exact writes, for --dry-run and the confirmation),
journaled before it starts, read back after every write, and audited.

Re-toggling ends with the learner ticked whatever happens: every failure after the journal entry
exists leads to another attempt to tick, and what cannot be finished now stays in the journal
for the next command (`diagnose resync --recover`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from diagnose.errors import Refusal, RemedyError

if TYPE_CHECKING:
    from diagnose.remedy.contact_code import (
        CONTACT_WRITE_SCOPE,
        MANUAL_CODE,
        CodeFix,
        apply_code_fix,
        changed_since,
        code_fix_plan,
        missing_scope,
        new_idempotency_key,
        plan_code_fix,
        refuse,
    )
    from diagnose.remedy.retoggle import (
        RESYNC_STEPS,
        Resynced,
        held_contact,
        read_learner,
        recover,
        resync,
        resync_plan,
    )

# Each name from the module that holds it, when first used: the remedies need the clients (and
# the HTTP library), which a command that writes nothing never loads.
_HOME = {
    **dict.fromkeys(
        (
            "CONTACT_WRITE_SCOPE",
            "MANUAL_CODE",
            "CodeFix",
            "apply_code_fix",
            "changed_since",
            "code_fix_plan",
            "missing_scope",
            "new_idempotency_key",
            "plan_code_fix",
            "refuse",
        ),
        "diagnose.remedy.contact_code",
    ),
    **dict.fromkeys(
        (
            "RESYNC_STEPS",
            "Resynced",
            "held_contact",
            "read_learner",
            "recover",
            "resync",
            "resync_plan",
        ),
        "diagnose.remedy.retoggle",
    ),
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)


__all__ = [
    "CONTACT_WRITE_SCOPE",
    "MANUAL_CODE",
    "RESYNC_STEPS",
    "CodeFix",
    "Refusal",
    "RemedyError",
    "Resynced",
    "apply_code_fix",
    "changed_since",
    "code_fix_plan",
    "held_contact",
    "missing_scope",
    "new_idempotency_key",
    "plan_code_fix",
    "read_learner",
    "recover",
    "refuse",
    "resync",
    "resync_plan",
]
