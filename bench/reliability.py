"""Reproduce the figures of RELIABILITY.md: run the reliability tests and print what they counted.

    python bench/reliability.py            # the suite as CI runs it (about 1.5 minutes)
    python bench/reliability.py --soak 10  # ten times the fault rounds and the property examples,
                                           # and twenty diagnoses that wait out the minute

Each figure is measured by the tests themselves (`tests/conftest.py` prints them after the run);
the tests also assert the figures that must be zero.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = [
    "tests/test_faults.py",
    "tests/test_budget.py",
    "tests/test_writes.py",
    "tests/test_bad_input.py",
    "tests/test_secrets.py",
    "tests/test_hostile_files.py",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soak", type=int, default=1, help="rounds and examples multiplier")
    args = parser.parse_args()
    if args.soak < 1:
        parser.error("--soak is a whole number from 1")
    env = {**os.environ, "DIAGNOSE_SOAK": str(args.soak)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    lines = done.stdout.splitlines()
    figures = [i for i, line in enumerate(lines) if "reliability figures" in line]
    if figures:
        shown = lines[figures[0] + 1 :]
        print("\n".join(line for line in shown if ": " in line and not line.startswith("=")))
    print(lines[-1] if lines else done.stderr.strip())
    print(f"soak {args.soak}: {time.monotonic() - started:.0f} s in all")
    if done.returncode:
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
