"""The wait after a re-toggle: each learner checked every so often until it has reached Xero,
or is held there where no wait helps, within one wait for all of them."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from diagnose import runner
from diagnose.gather import gather_learner_contact
from diagnose.model import Diagnosis, SubjectKind
from diagnose.remedy.synced import WAIT_CHECKS, held_in_xero, not_yet, synced
from diagnose.sources import policy

if TYPE_CHECKING:
    from diagnose.sources.both import Sources

TOKEN_MARGIN = 120  # re-open a long wait's session this many seconds before its token expires
Progress = Callable[[int, float, int, Diagnosis], None]  # (check, seconds waited, learner, told)


async def until_synced(
    session: Callable[[], AbstractAsyncContextManager[Sources]],
    learner_ids: Sequence[int],
    seconds: float,
    poll_seconds: float,
    progress: Progress,
) -> dict[int, tuple[bool, Diagnosis]]:
    """Check each learner at once, every `poll_seconds` and at the wait's end until its contact
    matches Wisenet or is held in Xero (`held_in_xero`: waiting cannot help), all of them within
    the one wait of `seconds`; one `session`, opened again before its token expires. The Xero
    calls go through the budget every diagnose process shares; a check that outlasts the
    interval is followed by the next time still ahead, so the wait's end stays where it was
    (the last check begins then, or when the one before it ends). Each learner's last
    diagnosis, and whether it synced."""
    started = policy.wall_clock()
    every = min(poll_seconds, seconds) if seconds > 0 else poll_seconds
    at = sorted({*(n * every for n in range(int(seconds // every) + 1)), max(seconds, 0)})
    last: dict[int, tuple[bool, Diagnosis]] = {}
    poll = slot = 0  # checks made; which of the times in `at` this one keeps
    while True:
        opened = time.monotonic()
        async with session() as sources:
            lifetime = sources.lifetime
            while True:
                poll += 1
                final = slot == len(at) - 1
                for lid in [i for i in learner_ids if i not in last or not_yet(last[i])]:
                    diagnosis = await check(lid, sources, final=final)
                    progress(poll, policy.wall_clock() - started, lid, diagnosis)
                    last[lid] = (synced(diagnosis), diagnosis)
                if final or not any(not_yet(told) for told in last.values()):
                    return {i: last[i] for i in learner_ids}
                # the next time still ahead: a check that took longer than the interval (the
                # Xero budget spaces many learners' calls out) does not push the wait's end back
                waited = policy.wall_clock() - started
                slot = next((n for n in range(slot + 1, len(at)) if at[n] > waited), len(at) - 1)
                await policy.pause(max(0.0, at[slot] - waited))
                if lifetime and time.monotonic() - opened > lifetime - TOKEN_MARGIN:
                    break  # a fresh token for the rest of the wait


async def check(learner_id: int, sources: Sources, *, final: bool) -> Diagnosis:
    """One check of a wait: the learner and its contact read (3 calls), which say whether it
    synced. When they say it is held in Xero, and at the wait's end, a whole diagnosis (7 calls)
    says what stands in the way, look-alikes and invoices included (the contact a merged one
    survives in is named from the searches)."""
    if not final:
        raw = await gather_learner_contact(learner_id, sources)
        sources.log.calls = []  # each check's calls are its own
        diagnosis = runner.diagnose(raw, WAIT_CHECKS)
        if held_in_xero(diagnosis) is None:  # synced, or still on its way
            return diagnosis
    raw = await runner.gather_from(SubjectKind.LEARNER, str(learner_id), sources)
    sources.log.calls = []
    return runner.diagnose(raw)
