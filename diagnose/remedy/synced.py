"""What a wait after a re-toggle reads in each poll's diagnosis: has the learner reached Xero, or
is its contact held in Xero where no re-toggle can reach it until a person acts there."""

from __future__ import annotations

from diagnose.model import Diagnosis, Finding, Status, TargetKind

SYNCED = ("contact.found", "contact.active", "contact.in-sync")
# what a wait's check decides from the learner and its contact alone (`gather_learner_contact`):
# whether it synced or is held in Xero, and the learner's own checks, which say why it does not
WAIT_CHECKS = (
    "learner.found",
    "learner.sync-enabled",
    "learner.full-name",
    "learner.address",
    "learner.email",
    "learner.field-mapping",
    *SYNCED,
)


def synced(diagnosis: Diagnosis) -> bool:
    """The learner's Xero contact is found, active and matches Wisenet."""
    mine = {f.check_id: f.status for f in diagnosis.findings if f.target.kind is TargetKind.LEARNER}
    return all(mine.get(check) is Status.PASS for check in SYNCED)


def held_in_xero(diagnosis: Diagnosis) -> Finding | None:
    """The learner's contact is archived, merged away or under an erasure request: Xero refuses
    Wisenet's updates to it however long one waits, and once it is put right in Xero the
    learner needs re-toggling again (contact.active's fix). None otherwise."""
    return next(
        (
            f
            for f in diagnosis.findings
            if f.check_id == "contact.active"
            and f.status is Status.FAIL
            and f.target.kind is TargetKind.LEARNER
        ),
        None,
    )


def not_yet(told: tuple[bool, Diagnosis]) -> bool:
    """A learner still worth waiting for: not synced, and not held in Xero."""
    done, diagnosis = told
    return not done and held_in_xero(diagnosis) is None
