"""Fault injection over real loopback sockets: every demo learner and invoice diagnosed again and
again while the sandbox server answers 503, 429 with a Retry-After, too slowly, drops the
connection or spoils the JSON body. Each finding must be the fault-free verdict or `error` naming
its cause; an incomplete diagnosis exits 3 or 4; nothing prints a traceback.

`DIAGNOSE_SOAK=N` runs N times as many rounds (`bench/reliability.py` does).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from conftest import FIGURES, Run
from test_demo_tenant import INVOICES, LEARNERS
from test_profiles import SECRET_ENV, write_config
from test_serve import served

SOAK = int(os.environ.get("DIAGNOSE_SOAK", "1"))
SUBJECTS = [("learner", lid) for lid, _, _ in LEARNERS] + [("invoice", n) for n, _ in INVOICES]
# (name, rounds, seed, shares of requests meeting each fault): 30 % of requests, which retries
# absorb; then 75 %, which exhausts them often enough to test the errors that follow
MIXES = [
    ("moderate faults", 2, 8, dict(fail=0.06, throttle=0.06, drop=0.05, slow=0.04, garble=0.09)),
    ("severe faults", 1, 9, dict(fail=0.2, throttle=0.15, drop=0.15, slow=0.05, garble=0.2)),
]  # fmt: skip


def verdicts(run: Run) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (f["target"]["key"], f["id"]): (f["status"], f["message"]) for f in run.json()["findings"]
    }


def causes(run: Run) -> list[str | None]:
    return [f["cause"] for f in run.json()["findings"] if f["status"] == "error"]


@pytest.mark.parametrize(("name", "rounds", "seed", "shares"), MIXES, ids=[m[0] for m in MIXES])
def test_faults_never_turn_into_wrong_verdicts(
    cli: Callable[..., Run],
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    rounds: int,
    seed: int,
    shares: dict[str, float],
) -> None:
    for key, value in SECRET_ENV.items():
        monkeypatch.setenv(key, value)

    def use(base: str) -> None:
        config = write_config(tmp_path, base)
        config.write_text(config.read_text() + "timeout = 0.5\n")
        monkeypatch.setenv("DIAGNOSE_CONFIG", str(config))

    unlimited = ("--rate-limit", "xero=100000/min")  # the runs here do not wait out a minute
    with served(data_dir, *unlimited) as base:
        use(base)
        truth = {subject: cli(*subject, "--profile", "local", "--json") for subject in SUBJECTS}
    assert {s: r.code for s, r in truth.items() if r.code not in (0, 1)} == {}
    tally: Counter[str] = Counter()
    wrong: list[str] = []
    mix = [f"--{fault}-rate={share}" for fault, share in shares.items()] + ["--slow-ms=1500"]
    with served(data_dir, *mix, f"--seed={seed}", *unlimited) as base:
        use(base)
        for _ in range(rounds * SOAK):
            for subject in SUBJECTS:
                run = cli(*subject, "--profile", "local", "--json")
                tally["runs"] += 1
                label = " ".join(subject)
                if "Traceback" in run.out + run.err or run.code == 70:
                    wrong.append(f"{label}: crashed: {run.err[-300:]}")
                    continue
                if not run.out or "error" in run.json():  # stopped before any finding: exit 3 or 4
                    if (
                        run.code in (3, 4)
                        and run.err.count("\n") == 1
                        and run.json()["exit_code"] == run.code
                    ):
                        tally["whole runs reported incomplete"] += 1
                    else:
                        wrong.append(f"{label}: exit {run.code} with {run.err!r}")
                    continue
                expected, got = verdicts(truth[subject]), verdicts(run)
                for key, verdict in got.items():
                    if verdict[0] == "error":
                        tally["errors reported"] += 1
                    elif expected.get(key) == verdict:
                        tally["verdicts correct"] += 1
                    else:
                        wrong.append(f"{label}: {key} said {verdict}, not {expected.get(key)}")
                if None in causes(run):
                    wrong.append(f"{label}: an error finding names no cause")
                incomplete = bool(causes(run)) or expected.keys() - got.keys()
                if incomplete and run.code not in (3, 4):
                    missing = sorted(expected.keys() - got.keys())
                    errors = [(k, v) for k, v in got.items() if v[0] == "error"]
                    wrong.append(f"{label}: incomplete but exit {run.code}: {missing} {errors}")
                if not incomplete and run.code != truth[subject].code:
                    wrong.append(f"{label}: exit {run.code}, fault-free {truth[subject].code}")
                tally["complete runs" if not incomplete else "incomplete runs"] += 1
        arrivals = httpx.get(f"{base}/_sandbox/requests").json()
    injected = Counter(a["fault"] for a in arrivals if a["fault"])
    FIGURES[name] = (
        f"{tally['runs']} runs, {len(arrivals)} requests, {sum(injected.values())} faults "
        f"injected ({', '.join(f'{n} {k}' for k, n in sorted(injected.items()))}); "
        f"{tally['verdicts correct']} verdicts correct, {tally['errors reported']} errors "
        f"reported, {tally['whole runs reported incomplete']} runs stopped with exit 3/4, "
        f"{tally['complete runs']} runs complete; wrong verdicts: {len(wrong)}"
    )
    assert not wrong, "\n".join(wrong[:10])
    assert tally["runs"] == rounds * SOAK * len(SUBJECTS)
    # the mix really happened, every kind of fault, at about the share asked for
    assert {"fail", "throttle", "drop", "slow", "truncated", "malformed", "shape"} <= set(injected)
    assert sum(injected.values()) >= 0.8 * sum(shares.values()) * len(arrivals)
    assert tally["verdicts correct"] > 0
    if name == "moderate faults":  # retries absorb nearly all of it
        assert tally["complete runs"] >= 0.9 * tally["runs"]
    else:  # and past them, the diagnosis says what it could not decide
        assert tally["errors reported"] + tally["whole runs reported incomplete"] > 0
