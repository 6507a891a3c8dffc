"""The remedies — the only writes diagnose makes: re-toggle "Sync to Xero", and restore a lost
Contact Code. Each is planned first (the exact writes, for --dry-run and the confirmation),
journaled before it starts, read back after every write, and audited.

Re-toggling ends with the learner ticked whatever happens: every failure after the journal entry
exists leads to another attempt to tick, and what cannot be finished now stays in the journal
for the next command (`diagnose resync --recover`).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from diagnose import audit, journal, parse
from diagnose.checking import contact_state, xero_contact_link
from diagnose.errors import DiagnoseError, ExitCode, NotFoundError, SourceError
from diagnose.evidence import Evidence
from diagnose.model import Diagnosis, Learner, Status, XeroContact
from diagnose.sources.wisenet import WisenetClient
from diagnose.sources.xero import XeroClient, is_safe_code
from diagnose.where import Where

TICK_ATTEMPTS = 3
TICK_BACKOFF = (0.5, 1.0, 2.0)
RESYNC_STEPS = (  # the named points of a re-toggle, in order, as `on_step` is told of them
    "resync.before-untick",
    "resync.after-untick",
    "resync.after-tick",
    "resync.before-done",
)


def _carry_on(step: str) -> None:
    """At each named step a re-toggle simply goes on."""


# Called with each step's name as a re-toggle reaches it. The tests' harness replaces it to kill
# the process there, as a power cut would, and prove that the journal recovers from every step.
on_step: Callable[[str], None] = _carry_on


class RemedyError(DiagnoseError):
    """A remedy could not finish; the message says what state it left and what to do."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.UNREACHABLE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _patch(path: str, ticked: bool) -> str:
    body = json.dumps([{"op": "replace", "path": "Personal/SyncToXero", "value": ticked}])
    return f"PATCH {path}  {body}"


def resync_plan(learner: Learner, learners_path: str) -> list[str]:
    """The exact requests a re-toggle makes, in order."""
    path = f"{learners_path}/{learner.learner_id}"
    steps = []
    if learner.sync_to_xero:
        steps += [_patch(path, False), f"GET {path}  (read back: SyncToXero must be false)"]
    steps += [_patch(path, True), f"GET {path}  (read back: SyncToXero must be true)"]
    return steps


async def read_learner(wisenet: WisenetClient, learner_id: int) -> Learner:
    item = await wisenet.learner(learner_id)
    learner = parse.learner(item) if isinstance(item, Mapping) else None
    if learner is None:
        raise NotFoundError(f"no Wisenet learner has LearnerId {learner_id}")
    return learner


async def _set_and_check(wisenet: WisenetClient, learner_id: int, ticked: bool) -> None:
    await wisenet.set_sync_to_xero(learner_id, ticked)
    on_step("resync.after-tick" if ticked else "resync.after-untick")
    if (await read_learner(wisenet, learner_id)).sync_to_xero is not ticked:
        raise RemedyError(
            f"Wisenet accepted the change but learner {learner_id} still reads "
            f"SyncToXero={not ticked}"
        )


async def _tick(wisenet: WisenetClient, learner_id: int) -> None:
    """Tick and read back, a few times: setting a value is safe to repeat."""
    for attempt in range(TICK_ATTEMPTS):
        try:
            await _set_and_check(wisenet, learner_id, True)
            return
        except (SourceError, RemedyError):
            if attempt + 1 == TICK_ATTEMPTS:
                raise
            await asyncio.sleep(TICK_BACKOFF[attempt])


@dataclass
class Resynced:
    learner: Learner
    message: str


def _last_call(client: WisenetClient | XeroClient) -> tuple[int | None, str | None]:
    """Status and Xero correlation id of the client's last call, for the audit log."""
    call = client.session.last_call
    return (call.status, call.correlation_id) if call else (None, None)


def _requests(client: WisenetClient | XeroClient, since: int) -> list[dict[str, Any]]:
    """Every request the client made from call number `since` on: method, path, status and the
    service's correlation id, for the audit log (never a header or a body)."""
    return [
        {
            "service": call.service.value,
            "method": call.method,
            "path": call.path,
            "status": call.status,
            "correlation_id": call.correlation_id,
        }
        for call in client.session.log.calls[since:]
    ]


def _entry(learner: Learner, where: Where) -> journal.Entry:
    return journal.Entry(
        "resync",
        learner.learner_id,
        where.sandbox,
        was_ticked=learner.sync_to_xero,
        profile=where.profile,
        organisation=where.organisation,
        organisation_id=where.organisation_id,
        wisenet=where.wisenet,
    )


async def resync(wisenet: WisenetClient, learner: Learner, *, where: Where) -> Resynced:
    """Untick (when ticked) and tick "Sync to Xero", journaled and read back at each step."""
    learner_id = learner.learner_id
    subject = f"learner {learner_id}"
    since = len(wisenet.session.log.calls)
    entry = _entry(learner, where)
    journal.write(entry)
    try:
        on_step("resync.before-untick")
        if learner.sync_to_xero:
            await _set_and_check(wisenet, learner_id, False)
            entry.state = "unticked"
            journal.write(entry)
        await _tick(wisenet, learner_id)
    except BaseException as exc:  # Ctrl-C and cancellation too: the learner must end ticked
        secured = await _ensure_ticked_after_failure(wisenet, entry, subject, where, exc, since)
        if not isinstance(exc, Exception):
            raise
        code = exc.exit_code if isinstance(exc, DiagnoseError) else ExitCode.CHECK_FAILED
        why = str(exc) or type(exc).__name__
        if secured:
            raise RemedyError(
                f"the re-toggle of learner {learner_id} did not complete ({why}); "
                '"Sync to Xero" is ticked, so nothing is left half-done. Try again later.',
                code,
            ) from None
        raise RemedyError(
            f'learner {learner_id} may be left with "Sync to Xero" unticked: {why}. Run '
            "'diagnose resync --recover' when Wisenet answers again (any diagnose command "
            "will also finish it).",
            code,
        ) from None
    status, correlation = _last_call(wisenet)
    on_step("resync.before-done")
    journal.finish(entry)
    if learner.sync_to_xero:
        message = '"Sync to Xero" was unticked and ticked again: the integration starts over'
        before = True
    else:
        message = '"Sync to Xero" was not ticked: it is ticked now'
        before = False
    audit.record(
        action="resync",
        subject=subject,
        outcome="done",
        where=where,
        before=before,
        after=True,
        api_status=status,
        correlation_id=correlation,
        detail=message,
        requests=_requests(wisenet, since),
    )
    return Resynced(learner, message)


async def _ensure_ticked_after_failure(
    wisenet: WisenetClient,
    entry: journal.Entry,
    subject: str,
    where: Where,
    cause: BaseException,
    since: int,
) -> bool:
    """Tick after a failure; True when the learner is ticked and the entry finished."""
    why = str(cause) or type(cause).__name__
    try:
        await asyncio.shield(_tick(wisenet, entry.learner_id))
        secured, after, detail = True, True, f'interrupted ({why}); "Sync to Xero" was ticked again'
    except BaseException as exc:  # still failing: the journal keeps the unfinished entry
        secured, after = False, None
        detail = f"interrupted ({why}); re-tick failed too ({exc}); left in the journal"
    if secured:
        journal.finish(entry)
    audit.record(
        action="resync",
        subject=subject,
        outcome="failed",
        where=where,
        before=entry.was_ticked,
        after=after,
        detail=detail,
        requests=_requests(wisenet, since),
    )
    return secured


async def recover(wisenet: WisenetClient, entry: journal.Entry, *, where: Where) -> str:
    """Finish an entry an earlier process left: make sure the learner is ticked."""
    subject = f"learner {entry.learner_id}"
    since = len(wisenet.session.log.calls)
    try:
        learner = await read_learner(wisenet, entry.learner_id)
    except NotFoundError:
        journal.finish(entry)
        return f"{subject} no longer exists; the unfinished resync is dropped"
    if not learner.sync_to_xero:
        await _tick(wisenet, entry.learner_id)
    status, correlation = _last_call(wisenet)
    journal.finish(entry)
    audit.record(
        action="resync-recover",
        subject=subject,
        outcome="done",
        where=where,
        before=learner.sync_to_xero,
        after=True,
        api_status=status,
        correlation_id=correlation,
        detail=f"finished the resync started {entry.started}",
        requests=_requests(wisenet, since),
    )
    return f'{subject}: the interrupted resync is finished; "Sync to Xero" is ticked'


# -----------------------------------------------------------------------------------------------
# The Contact Code


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
    close = found["contact.found"].evidence.get("near_miss")
    if close and not chosen_id:  # the learner's contact, its code off by letter case
        if close.get("status") != "ACTIVE":
            return CodeFix(
                learner,
                refusal=f"{close.get('name')}, whose Contact Code differs only in "
                f"{close.get('difference')}, is {contact_state(str(close.get('status')))}",
                manual="In Xero restore it (Contacts › All contacts › Archived › Restore), then "
                "run 'diagnose fix contact-code' again.",
            )
        return _fix_for(learner, evidence, close)
    rows = found["contact.duplicates"].evidence.get("contacts", [])
    if chosen_id:
        return _chosen(learner, evidence, rows, chosen_id)
    active = [r for r in rows if r.get("status") == "ACTIVE"]
    strong = [r for r in active if r.get("strong")]
    if len(strong) > 1:
        names = ", ".join(str(r.get("name")) for r in strong)
        return CodeFix(
            learner,
            refusal=f"{len(strong)} active contacts match this learner closely: {names}",
            manual=MANUAL_CODE,
        )
    if not strong and active:
        described = "; ".join(
            f"{r.get('name')} ({r.get('contact_id')}): same {', '.join(r.get('matched') or [])}"
            f", different {', '.join(r.get('differs') or []) or 'nothing'}"
            for r in active
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
    return _fix_for(learner, evidence, strong[0])


def _fix_for(learner: Learner, evidence: Evidence, row: Mapping[str, Any]) -> CodeFix:
    seen = next((c for c in evidence.candidates if c.contact_id == row["contact_id"]), None)
    if seen is not None and seen.contact_number:
        row = {**row, "differs": [f"Contact Code {seen.contact_number!r} is replaced"]}
    return CodeFix(
        learner,
        contact_id=str(row["contact_id"]),
        contact_name=str(row["name"]),
        contact=seen,
        differs=tuple(str(d) for d in row.get("differs") or ()),
    )


def _chosen(learner: Learner, evidence: Evidence, rows: list[Any], chosen_id: str) -> CodeFix:
    """The contact `--contact` names: one of the look-alikes the checks found, and active."""
    row = next((r for r in rows if str(r.get("contact_id")).lower() == chosen_id.lower()), None)
    if row is None:
        listed = ", ".join(f"{r.get('name')} ({r.get('contact_id')})" for r in rows) or "none"
        return CodeFix(
            learner,
            refusal=f"contact {chosen_id} is not one of the look-alikes of this learner "
            f"without a Contact Code (found: {listed})",
        )
    if row.get("status") != "ACTIVE":
        return CodeFix(
            learner,
            refusal=f"{row.get('name')} is {contact_state(str(row.get('status')))}",
            manual="In Xero restore it (Contacts › All contacts › Archived › Restore), then run "
            "'diagnose fix contact-code' again.",
        )
    return _fix_for(learner, evidence, row)


def code_fix_plan(fix: CodeFix, key: str) -> list[str]:
    body = json.dumps({"Contacts": [{"ContactID": fix.contact_id, "ContactNumber": fix.code}]})
    return [
        f"GET /api.xro/2.0/Contacts?IDs={fix.contact_id}  (re-read: unchanged since the "
        "diagnosis, still active, its Contact Code as it was)",
        f"GET /api.xro/2.0/Contacts/{fix.code}  (no other contact holds the code)",
        f"POST /api.xro/2.0/Contacts/{fix.contact_id}  {body}  (Idempotency-Key: {key})",
        f"GET /api.xro/2.0/Contacts/{fix.code}  (read back: it must be {fix.contact_name})",
    ]


CONTACT_WRITE_SCOPE = "accounting.contacts"


class Refusal(RemedyError):
    """A remedy would not write: the message says why and what to do; nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.CHECK_FAILED)


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
        status, correlation = _last_call(xero)
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
            requests=_requests(xero, since),
        )
        raise
    status, correlation = _last_call(xero)
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
        requests=_requests(xero, since),
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
