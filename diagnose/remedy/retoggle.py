"""Re-toggle "Sync to Xero": untick (when ticked), read back, tick, read back — journaled before
it starts and audited. It ends with the learner ticked whatever happens: every failure after the
journal entry exists leads to another attempt to tick, and what cannot be finished now stays in
the journal for the next command (`diagnose resync --recover`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from diagnose import audit, journal, parse
from diagnose.errors import DiagnoseError, ExitCode, NotFoundError, RemedyError, SourceError
from diagnose.gather.common import contacts_of
from diagnose.model import Learner, Status
from diagnose.remedy.common import last_call, requests_made
from diagnose.sources.reads import XeroReads
from diagnose.sources.wisenet import WisenetClient
from diagnose.sources.xero import is_safe_code
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


def resync_plan(learner: Learner, wisenet: WisenetClient) -> list[str]:
    """The exact requests a re-toggle makes, in order, as the client will send them."""
    learner_id = learner.learner_id
    read = wisenet.shown(wisenet.learner_request(learner_id))
    steps = []
    for ticked in (False, True) if learner.sync_to_xero else (True,):
        steps += [
            wisenet.shown(wisenet.sync_to_xero_request(learner_id, ticked)),
            f"{read}  (read back: SyncToXero must be {str(ticked).lower()})",
        ]
    return steps


async def held_contact(xero: XeroReads, learner: Learner) -> str:
    """A note for the plan when contact.active fails for the learner's Xero contact (archived,
    merged away, under an erasure request): Xero refuses Wisenet's updates to it, so a
    re-toggle alone does not reach Xero. "" when it passes, is not found, or could not be read
    (the plan goes on; the wait and the diagnosis say what they find)."""
    from checks.contact import contact_active

    code = learner.learner_number
    if not is_safe_code(code):
        return ""
    try:
        records = contacts_of(await xero.contact_by_number(code))
    except SourceError:
        return ""
    if not records:
        return ""
    outcome = contact_active(contact=parse.contact(records[0]), candidates_if_read=())
    if outcome.status is not Status.FAIL:
        return ""
    return (
        f"NOTE: {outcome.message}: this re-toggle alone does not reach Xero until that is put "
        f"right there (`diagnose learner {learner.learner_id}` says how)"
    )


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
    status, correlation = last_call(wisenet)
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
        requests=requests_made(wisenet, since),
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
        requests=requests_made(wisenet, since),
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
    status, correlation = last_call(wisenet)
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
        requests=requests_made(wisenet, since),
    )
    return f'{subject}: the interrupted resync is finished; "Sync to Xero" is ticked'
