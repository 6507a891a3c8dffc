"""Restore a lost Contact Code: give the learner's one close look-alike Xero contact the
learner's RefInternal — re-read just before the write, sent with an Idempotency-Key, read back,
audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from diagnose import audit, parse
from diagnose.checking import contact_state, xero_contact_link
from diagnose.errors import Refusal, RemedyError, SourceError
from diagnose.evidence import Evidence, Unavailable
from diagnose.lookalikes import Resemblance, lookalikes, near_misses
from diagnose.model import Diagnosis, Learner, Status, XeroContact
from diagnose.remedy.common import last_call, requests_made
from diagnose.sources.xero import XeroClient, is_safe_code
from diagnose.where import Where


@dataclass
class CodeFix:
    """What `fix contact-code` would do, or why it will not."""

    learner: Learner | None
    contact_id: str = ""
    contact_name: str = ""
    refusal: str = ""
    manual: str = ""
    contact: XeroContact | None = None  # as the diagnosis saw it, to notice a change since
    differs: tuple[str, ...] = ()  # how a contact chosen with --contact differs from the learner
    done: bool = False  # the learner's code is on its one active contact: nothing to fix

    @property
    def link(self) -> str:
        return xero_contact_link(self.contact_id) if self.contact_id else ""

    @property
    def code(self) -> str:
        return self.learner.learner_number if self.learner else ""


MANUAL_CODE = (
    "In Xero, merge the look-alike contacts into one (Contacts › All contacts, tick them, Merge), "
    "restore it if archived, then run 'diagnose fix contact-code' again; or log a support "
    "request with 'diagnose learner ID --report'."
)


def plan_code_fix(diagnosis: Diagnosis, evidence: Evidence, chosen_id: str = "") -> CodeFix:
    """Decide from a learner's diagnosis: exactly one active contact that matches the learner
    closely and has no code, and no contact (archived ones included) holding the learner's code
    already. A weaker look-alike is used only when `chosen_id` names it (`--contact`), and the
    plan then says how it differs from the learner."""
    learner = evidence.learner
    found = {f.check_id: f for f in diagnosis.findings}
    if learner is None:
        return CodeFix(None, refusal="the learner was not found in Wisenet")
    for check_id in ("contact.found", "contact.duplicates"):
        finding = found.get(check_id)
        if finding is None or finding.status is Status.ERROR:
            reason = finding.message if finding else "it was not checked"
            return CodeFix(learner, refusal=f"{check_id} could not be decided: {reason}")
    if found["contact.found"].status is Status.PASS:
        holder = evidence.contact
        if (
            holder is not None
            and holder.status == "ACTIVE"
            and found["contact.duplicates"].status is Status.PASS
        ):  # fixed already: by an earlier run, another command at the same time, or in Xero
            return CodeFix(learner, holder.contact_id, holder.name, contact=holder, done=True)
        name = holder.name if holder else "a contact"
        return CodeFix(
            learner,
            refusal=f"{name} ({contact_state(holder.status) if holder else '?'}) already holds "
            f"Contact Code {learner.learner_number}; Xero allows a code on one contact only",
            manual=MANUAL_CODE,
        )
    if not is_safe_code(learner.learner_number):
        return CodeFix(learner, refusal=f"{learner.learner_number!r} cannot be set safely")
    try:
        candidates = evidence.candidates
    except Unavailable as exc:  # not searched: Xero was not reached (the checks were skipped)
        return CodeFix(
            learner,
            refusal=f"the Xero contacts could not be read: {exc}",
            manual="Run 'diagnose status' to see why Xero was not reached, then try again.",
        )
    close = near_misses(learner, candidates)
    if close and not chosen_id:  # the learner's contact, its code off by letter case or spaces
        near, how = close[0]
        if near.status != "ACTIVE":
            return CodeFix(
                learner,
                refusal=f"{near.name}, whose Contact Code differs only in {how}, is "
                f"{contact_state(near.status)}",
                manual="In Xero restore it (Contacts › All contacts › Archived › Restore), then "
                "run 'diagnose fix contact-code' again.",
            )
        return _fix_for(learner, near, ())
    rows = lookalikes(learner, evidence.contact, candidates)
    if chosen_id:
        return _chosen(learner, rows, chosen_id)
    active = [(c, how) for c, how in rows if c.status == "ACTIVE"]
    strong = [(c, how) for c, how in active if how.strong]
    if len(strong) > 1:
        names = ", ".join(c.name for c, _ in strong)
        return CodeFix(
            learner,
            refusal=f"{len(strong)} active contacts match this learner closely: {names}",
            manual=MANUAL_CODE,
        )
    if not strong and active:
        described = "; ".join(
            f"{c.name} ({c.contact_id}): same {', '.join(how.matched)}"
            f", different {', '.join(how.differs) or 'nothing'}"
            for c, how in active
        )
        return CodeFix(
            learner,
            refusal="no active contact matches this learner closely enough to be theirs "
            f"({described})",
            manual="Check in Xero whether one of them really is the learner. If it is, run "
            f"'diagnose fix contact-code learner {learner.learner_id} --contact CONTACT_ID' "
            "with its ContactID; if not, the learner has not reached Xero yet: fix the failing "
            f"learner checks and run 'diagnose resync learner {learner.learner_id}'.",
        )
    if not active and rows:
        return CodeFix(
            learner,
            refusal="the only look-alike contact is archived",
            manual="In Xero restore it (Contacts › All contacts › Archived › Restore), then run "
            "'diagnose fix contact-code' again.",
        )
    if not active:
        return CodeFix(
            learner,
            refusal="no Xero contact looks like this learner",
            manual="The learner has not reached Xero yet: fix the failing learner checks, then "
            f"run 'diagnose resync learner {learner.learner_id}'.",
        )
    chosen, likeness = strong[0]
    return _fix_for(learner, chosen, likeness.differs)


def _fix_for(learner: Learner, contact: XeroContact, differs: tuple[str, ...]) -> CodeFix:
    """The fix on `contact`; a Contact Code it already has (another, or off by case) is said to
    be replaced."""
    if contact.contact_number:
        differs = (*differs, f"Contact Code {contact.contact_number!r} is replaced")
    return CodeFix(
        learner,
        contact_id=contact.contact_id,
        contact_name=contact.name,
        contact=contact,
        differs=differs,
    )


def _chosen(
    learner: Learner, rows: list[tuple[XeroContact, Resemblance]], chosen_id: str
) -> CodeFix:
    """The contact `--contact` names: one of the look-alikes the checks found, and active."""
    row = next(((c, how) for c, how in rows if c.contact_id.lower() == chosen_id.lower()), None)
    if row is None:
        listed = ", ".join(f"{c.name} ({c.contact_id})" for c, _ in rows) or "none"
        return CodeFix(
            learner,
            refusal=f"contact {chosen_id} is not one of the look-alikes of this learner "
            f"without a Contact Code (found: {listed})",
        )
    contact, how = row
    if contact.status != "ACTIVE":
        return CodeFix(
            learner,
            refusal=f"{contact.name} is {contact_state(contact.status)}",
            manual="In Xero restore it (Contacts › All contacts › Archived › Restore), then run "
            "'diagnose fix contact-code' again.",
        )
    return _fix_for(learner, contact, how.differs)


def code_fix_plan(fix: CodeFix, key: str, xero: XeroClient) -> list[str]:
    """The exact requests the fix makes, in order, as the client will send them."""
    by_code = xero.contact_by_number_request(fix.code).shown()
    return [
        f"{xero.contacts_by_ids_request([fix.contact_id]).shown()}  (re-read: unchanged since "
        "the diagnosis, still active, its Contact Code as it was)",
        f"{by_code}  (no other contact holds the code)",
        xero.contact_code_request(fix.contact_id, fix.code, key).shown(),
        f"{by_code}  (read back: it must be {fix.contact_name})",
    ]


CONTACT_WRITE_SCOPE = "accounting.contacts"


def missing_scope(profile: str, *, pkce: bool) -> str:
    """Why a profile's sign-in cannot set a Contact Code, and how to grant it."""
    if pkce:
        how = f"run 'diagnose connect xero --profile {profile} --write' (Xero asks for consent)"
    else:
        how = (
            f"add the {CONTACT_WRITE_SCOPE} scope to the custom connection in the Xero "
            "developer portal and have the organisation authorise it again"
        )
    return (
        f"profile {profile!r} may only read Xero contacts (no {CONTACT_WRITE_SCOPE} scope): "
        f"{how}, then try again (nothing written)"
    )


SET_MEANWHILE = "set meanwhile"  # the very fix, made by another command since the diagnosis


async def changed_since(xero: XeroClient, fix: CodeFix) -> str:
    """Why the contact (or the code) is no longer as the diagnosis saw it, or "" when it is:
    read again just before the write, so a change made in Xero meanwhile is never overwritten."""
    body = await xero.contacts(ids=[fix.contact_id])
    rows = (body or {}).get("Contacts") or []
    now = parse.contact(rows[0]) if rows else None
    if now is None:
        return f"{fix.contact_name} is no longer in Xero"
    if now.merged_to:
        return f"{fix.contact_name} was merged into another contact"
    if now.status != "ACTIVE":
        return f"{fix.contact_name} is {contact_state(now.status)} now"
    seen = fix.contact
    if fix.code and now.contact_number == fix.code:
        return SET_MEANWHILE
    if now.contact_number != (seen.contact_number if seen is not None else ""):
        return f"{fix.contact_name} has Contact Code {now.contact_number or '(none)'} now"
    if seen is not None and seen.updated is not None and now.updated != seen.updated:
        when = f"{now.updated:%Y-%m-%d %H:%M} UTC" if now.updated else "since"
        return f"{fix.contact_name} was changed in Xero ({when})"
    if await xero.contact_by_number(fix.code) is not None:
        return f"another contact holds Contact Code {fix.code} now"
    return ""


async def apply_code_fix(xero: XeroClient, fix: CodeFix, key: str, *, where: Where) -> str:
    """Re-read the contact, then set the code with the Idempotency-Key, then read it back."""
    subject = f"learner {fix.learner.learner_id}" if fix.learner else "learner"
    since = len(xero.session.log.calls)
    changed = await changed_since(xero, fix)
    if changed == SET_MEANWHILE:  # two commands fixed one learner at once: this one's work is done
        return (
            f"{fix.contact_name} already holds Contact Code {fix.code}: another command set it "
            "since the diagnosis; nothing to fix, nothing written"
        )
    if changed:
        reason = f"{changed} since the diagnosis"
        refuse(fix, where=where, reason=reason)
        raise Refusal(
            f"will not set the Contact Code: {reason}. Run 'diagnose learner "
            f"{fix.learner.learner_id if fix.learner else 'ID'}' again and decide on what Xero "
            "holds now (nothing written)."
        )
    try:
        await xero.set_contact_code(fix.contact_id, fix.code, key)
    except SourceError as exc:  # the session already retried it under the same key
        status, correlation = last_call(xero)
        audit.record(
            action="fix-contact-code",
            subject=subject,
            outcome="failed",
            where=where,
            before="",
            after=fix.code,
            api_status=status,
            correlation_id=correlation,
            detail=str(exc),
            requests=requests_made(xero, since),
        )
        raise
    status, correlation = last_call(xero)
    body = await xero.contact_by_number(fix.code)
    contacts = (body or {}).get("Contacts") or []
    holder = parse.contact(contacts[0]) if contacts else None
    if holder is None or holder.contact_id != fix.contact_id:
        raise RemedyError(
            f"Xero accepted the change but {fix.code} does not read back on the contact"
        )
    message = f"{fix.contact_name} now has Contact Code {fix.code}"
    audit.record(
        action="fix-contact-code",
        subject=subject,
        outcome="done",
        where=where,
        before="",
        after=fix.code,
        api_status=status,
        correlation_id=correlation,
        detail=f"{message} (ContactID {fix.contact_id})",
        requests=requests_made(xero, since),
    )
    return message


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def refuse(fix: CodeFix, *, where: Where, reason: str = "") -> dict[str, Any]:
    subject = f"learner {fix.learner.learner_id}" if fix.learner else "learner"
    return audit.record(
        action="fix-contact-code",
        subject=subject,
        outcome="refused",
        where=where,
        detail=reason or fix.refusal,
    )
