"""The services' budgets shared between processes: two `SharedBudget`s on one folder
stand for two `diagnose` processes; then twenty real processes at once against the loopback
server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from conftest import FIGURES, Run
from test_demo_tenant import LEARNERS
from test_faults import verdicts
from test_profiles import SECRET_ENV, write_config
from test_serve import served

from diagnose.errors import SourceError
from diagnose.model import ProblemKind, Service
from diagnose.sources.budget import WINDOW, WISENET_WINDOW, SharedBudget

ORG = "00000000-0000-0000-0000-000000000001"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_two_processes_share_one_minute_and_a_call_past_max_wait_fails_at_once(
    tmp_path: Path, pauses: list[float]
) -> None:
    clock = Clock()
    first, second = (
        SharedBudget(tmp_path, per_window=3, max_wait=10, clock=clock) for _ in range(2)
    )

    async def calls(budget: SharedBudget, n: int) -> None:
        for _ in range(n):
            async with budget.call(ORG):
                clock.now += 1

    asyncio.run(calls(first, 2))
    asyncio.run(calls(second, 1))  # the minute's third call, made by the other process
    with pytest.raises(SourceError) as refused:
        asyncio.run(calls(second, 1))
    assert refused.value.problem.kind is ProblemKind.RATE_LIMITED
    assert "3 calls a minute to this organisation are spent" in str(refused.value)
    assert "next is free in 58 s, past max_wait (10 s)" in str(refused.value)
    assert pauses == []  # refused at once, not after waiting
    # another organisation has its own minute
    other = SharedBudget(tmp_path, per_window=3, max_wait=10, clock=clock)

    async def elsewhere() -> None:
        async with other.call("another-organisation"):
            pass

    asyncio.run(elsewhere())


def test_a_wait_within_max_wait_is_waited_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import diagnose.sources.policy as policy

    clock = Clock()
    budget = SharedBudget(tmp_path, per_window=2, max_wait=120, clock=clock)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:  # a pause that moves this test's clock on
        slept.append(seconds)
        clock.now += seconds

    monkeypatch.setattr(policy, "pause", sleep)

    async def one() -> None:
        async with budget.call(ORG):
            pass

    asyncio.run(one())
    clock.now += 10
    asyncio.run(one())
    asyncio.run(one())  # the third of a 2-a-minute budget: waits for the first to age out
    assert slept == [pytest.approx(WINDOW - 10)]


def test_wisenets_second_is_shared_per_api_key(tmp_path: Path, pauses: list[float]) -> None:
    clock = Clock()

    def wisenet(key: str) -> SharedBudget:
        return SharedBudget(
            tmp_path,
            per_window=10,
            concurrent=0,
            max_wait=0.5,
            clock=clock,
            window=WISENET_WINDOW,
            service=Service.WISENET,
            key=key,
        )

    async def calls(budget: SharedBudget, n: int) -> None:
        for _ in range(n):
            async with budget.call():
                clock.now += 0.01

    asyncio.run(calls(wisenet("key-a"), 6))
    asyncio.run(calls(wisenet("key-a"), 4))  # another process, the same key: the 10th call
    asyncio.run(calls(wisenet("key-b"), 10))  # another key has its own second
    clock.now += 0.2
    with pytest.raises(SourceError) as refused:  # free in 0.8 s, past max_wait
        asyncio.run(calls(wisenet("key-a"), 1))
    assert refused.value.problem.service is Service.WISENET
    assert "Wisenet: 10 calls a second to this Wisenet API key are spent" in str(refused.value)
    assert pauses == []
    clock.now += 0.8
    asyncio.run(calls(wisenet("key-a"), 1))  # the first of them has aged out


def test_calls_in_flight_are_capped_across_processes(tmp_path: Path) -> None:
    budgets = [SharedBudget(tmp_path, concurrent=2, max_wait=0) for _ in range(3)]

    async def hold() -> None:
        async with budgets[0].call(ORG), budgets[1].call(ORG), budgets[2].call(ORG):
            pass

    with pytest.raises(SourceError) as refused:
        asyncio.run(hold())
    assert "2 calls to this organisation are already in flight" in str(refused.value)

    async def in_turn() -> None:  # released slots are free again
        for budget in budgets:
            async with budget.call(ORG):
                pass

    asyncio.run(in_turn())


def test_a_damaged_budget_file_is_read_as_empty(tmp_path: Path) -> None:
    budget = SharedBudget(tmp_path, per_window=1, max_wait=0)

    async def one() -> None:
        async with budget.call(ORG):
            pass

    asyncio.run(one())
    (window,) = tmp_path.glob("*.window.json")
    window.write_text('{"not": "a list"')
    asyncio.run(one())  # would be refused had the damaged file been believed full


# 5 s: the runs past the minute's 60 calls stop at once (exit 4); with a soak, also 90 s: they
# wait for the next minute and all twenty finish
WAITS = [5] + ([90] if int(os.environ.get("DIAGNOSE_SOAK", "1")) > 1 else [])


@pytest.mark.parametrize("max_wait", WAITS)
def test_twenty_diagnoses_at_once_share_the_budget_and_never_meet_a_429(
    cli: Callable[..., Run],
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    max_wait: int,
) -> None:
    learners = [lid for lid, _, _ in LEARNERS]
    chosen = [learners[n % len(learners)] for n in range(20)]
    for key, value in SECRET_ENV.items():
        monkeypatch.setenv(key, value)
    with served(data_dir, "--rate-limit", "xero=100000/min") as base:
        monkeypatch.setenv("DIAGNOSE_CONFIG", str(write_config(tmp_path, base)))
        truth = {lid: cli("learner", lid, "--profile", "local", "--json") for lid in set(chosen)}
    shared = tmp_path / "processes"  # one data and cache folder, as one user's machine
    # the services' real limits: Xero's 60 a minute and 5 at once, Wisenet's 10 a second
    with served(data_dir, "--rate-limit", "wisenet=10/s") as base:
        config = write_config(tmp_path, base)
        config.write_text(config.read_text() + f"max_wait = {max_wait}\n")
        env = {
            **os.environ,
            "DIAGNOSE_CONFIG": str(config),
            "DIAGNOSE_DATA_DIR": str(shared),
            "DIAGNOSE_CACHE_DIR": str(shared / "cache"),
        }
        started = time.monotonic()
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "diagnose", "learner", lid, "--profile", "local", "--json"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for lid in chosen
        ]
        outcomes = [
            (lid, p, *p.communicate(timeout=300)) for lid, p in zip(chosen, processes, strict=True)
        ]
        took = time.monotonic() - started
        arrivals = httpx.get(f"{base}/_sandbox/requests").json()
    tally: Counter[str] = Counter()
    for lid, process, out, err in outcomes:
        assert "Traceback" not in out + err
        run = Run(process.returncode, out, err)
        if run.code == truth[lid].code and verdicts(run) == verdicts(truth[lid]):
            tally["correct"] += 1
            continue
        assert run.code == 4, (lid, run.code, run.err)
        errors = [f for f in run.json()["findings"] if f["status"] == "error"]
        assert {f["cause"] for f in errors} == {"rate-limited"}
        assert all("max_wait" in f["message"] for f in errors)
        decided = {k: v for k, v in verdicts(run).items() if v[0] != "error"}
        assert decided.items() <= verdicts(truth[lid]).items()  # and what was decided is right
        tally["failed fast"] += 1
    limited = Counter(a["limited"] for a in arrivals if a.get("limited"))
    xero_calls = sum(a["path"].startswith("/api.xro/") for a in arrivals)
    FIGURES[f"20 diagnoses at once, max_wait {max_wait} s"] = (
        f"{tally['correct']} complete and correct, {tally['failed fast']} stopped with exit 4 "
        f"in {took:.1f} s; {xero_calls} Xero calls, 429s from the server: "
        f"{sum(limited.values())}"
    )
    assert sum(limited.values()) == 0, limited
    if max_wait < 60:
        assert 50 <= xero_calls <= 60  # runs stopped only once the minute was (nearly) spent
        assert tally["correct"] >= 5
    else:
        assert tally["correct"] == 20
    assert tally["correct"] + tally["failed fast"] == 20
