"""Print the start-up figures the spine issue sets targets for.

    python bench/startup.py [--runs N]

- cold-start wall time of `diagnose --help` and `diagnose learner 123` (a fresh process each
  run; best and median of N);
- API calls and sequential rounds of every demo learner's diagnosis.

Targets on the reference machine (2 cores): `--help` under 0.2 s, learner 123 under 0.5 s, at most
2 rounds and 7 calls per learner diagnosis (3 and 8 when look-alike contacts exist, whose
invoices are read in a third round). This script reports; it does not judge.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time

from installed import ENV

from diagnose.sandbox import demo_tenant_path


def wall(argv: list[str], runs: int) -> tuple[float, float]:
    subprocess.run(argv, capture_output=True, check=False, env=ENV)  # writes the bytecode
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False, env=ENV)
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    cli = [sys.executable, "-m", "diagnose"]
    print(f"python {platform.python_version()} on {platform.machine()}, {runs} runs each")
    for label, argv in (
        ("diagnose --help", [*cli, "--help"]),
        ("diagnose learner 123", [*cli, "learner", "123"]),
    ):
        best, median = wall(argv, runs)
        print(f"{label:<24} best {best * 1000:6.0f} ms   median {median * 1000:6.0f} ms")
    tenant = json.loads(demo_tenant_path().read_text(encoding="utf-8"))
    print()
    print(f"{'learner':>8} {'calls':>6} {'rounds':>7}")
    worst_calls = worst_rounds = 0
    for learner in tenant["wisenet"]["learners"]:
        learner_id = str(learner["LearnerId"])
        done = subprocess.run(
            [*cli, "learner", learner_id, "--json"], capture_output=True, text=True, check=False
        )
        document = json.loads(done.stdout)
        calls, rounds = len(document["calls"]), document["rounds"]
        worst_calls, worst_rounds = max(worst_calls, calls), max(worst_rounds, rounds)
        print(f"{learner_id:>8} {calls:>6} {rounds:>7}")
    print(f"{'most':>8} {worst_calls:>6} {worst_rounds:>7}")


if __name__ == "__main__":
    main()
