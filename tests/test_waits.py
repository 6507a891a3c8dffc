"""The wait after a re-toggle keeps to the time it was given, however long its checks take."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from diagnose import waits
from diagnose.model import Diagnosis, Subject, SubjectKind
from diagnose.sources import policy


class Clock:
    """The wait's clock: it moves only by the wait's pauses and by what each check takes."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.finals: list[bool] = []  # for each check made, whether it was a whole diagnosis

    def read(self) -> float:
        return self.now

    async def pause(self, seconds: float) -> None:
        assert seconds >= 0
        self.now += seconds


def on_its_way(learner_id: int) -> Diagnosis:
    """A learner not synced yet and not held in Xero: worth waiting for."""
    subject = Subject(SubjectKind.LEARNER, str(learner_id))
    return Diagnosis(subject, "", "live", "", datetime.now(UTC), (), ())


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(policy, "wall_clock", clock.read)
    monkeypatch.setattr(policy, "pause", clock.pause)
    return clock


@asynccontextmanager
async def session() -> AsyncIterator[Any]:
    yield SimpleNamespace(lifetime=None)


async def checks_at(
    clock: Clock, monkeypatch: pytest.MonkeyPatch, learners: int, each: float, wait: float
) -> list[tuple[int, int]]:
    """(check, seconds into the wait) for each learner's check of a wait of `wait` seconds,
    checked every minute, when a learner's check takes `each` seconds."""

    async def check(learner_id: int, sources: Any, *, final: bool) -> Diagnosis:
        clock.now += each
        clock.finals.append(final)
        return on_its_way(learner_id)

    monkeypatch.setattr(waits, "check", check)
    told: list[tuple[int, int]] = []
    ends = await waits.until_synced(
        session,
        list(range(1, learners + 1)),
        wait,
        60.0,
        lambda poll, waited, learner, diagnosis: told.append((poll, round(waited))),
    )
    assert not any(done for done, _ in ends.values())
    return told


async def test_quick_checks_are_a_minute_apart_and_the_last_at_the_end(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    told = await checks_at(clock, monkeypatch, learners=1, each=1.0, wait=180)
    assert told == [(1, 1), (2, 61), (3, 121), (4, 181)]
    assert clock.finals == [False, False, False, True]  # only the last is a whole diagnosis


async def test_slow_checks_do_not_push_the_wait_s_end_back(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eighteen learners at 5 s a check (Xero's 60 calls a minute spread their calls out): a
    check of them all takes 90 s. The second begins at the next minute still ahead (2:00), and
    the last, a whole diagnosis, as soon as the second ends, past the wait's end (3:00): the
    wait is over at 5:00. Before, each pause was a whole minute after the check before it ended,
    and `--wait 3m` took four checks and 9:00."""
    told = await checks_at(clock, monkeypatch, learners=18, each=5.0, wait=180)
    starts = [at - 5 for _, at in told[::18]]
    assert [poll for poll, _ in told[::18]] == [1, 2, 3]
    assert len(told) == 3 * 18
    assert starts == [0, 120, 210]
    assert told[-1][1] == 300
    assert clock.finals == [False] * 36 + [True] * 18


async def test_checks_slower_than_the_whole_wait_end_with_one_whole_check(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    told = await checks_at(clock, monkeypatch, learners=10, each=20.0, wait=120)
    assert [poll for poll, _ in told] == [1] * 10 + [2] * 10  # 200 s, then at once the last
    assert clock.finals == [False] * 10 + [True] * 10
