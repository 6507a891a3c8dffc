"""Run `diagnose` as a test needs it: the real entry point, with what only tests ask for put in
from outside — faults in front of the in-process sandbox, and a failpoint that kills the process
at a named step of a re-toggle. The product reads neither; these variables are the tests' own.

    python tests/harness.py resync learner 101 --yes      # as `python -m diagnose …`

    DIAGNOSE_TEST_FAULTS     a JSON list of faults (see diagnose.sandbox.faults)
    DIAGNOSE_TEST_FAILPOINT  a step of diagnose.remedy.RESYNC_STEPS: SIGKILL on reaching it

The in-process tests get the same through the `cli` fixture (`install(monkeypatch)`).
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from typing import Any

FAULTS_ENV = "DIAGNOSE_TEST_FAULTS"
FAILPOINT_ENV = "DIAGNOSE_TEST_FAILPOINT"
HARNESS = os.path.abspath(__file__)


def install(patch: Any = None) -> None:
    """Put the faults and the failpoint the environment names in place; `patch` (a pytest
    MonkeyPatch) undoes it after the test, else it lasts as long as the process."""
    from diagnose.remedy import retoggle
    from diagnose.sandbox.app import create_app
    from diagnose.sandbox.faults import parse_faults
    from diagnose.sources import sandbox

    def put(target: Any, name: str, value: Any) -> None:
        if patch is not None:
            patch.setattr(target, name, value)
        else:
            setattr(target, name, value)

    faults = parse_faults(os.environ.get(FAULTS_ENV, ""))  # none named: the plain sandbox again
    put(sandbox, "create_app", functools.partial(create_app, faults=faults))
    step = os.environ.get(FAILPOINT_ENV, "")

    def failpoint(reached: str) -> None:
        if reached == step:
            os.kill(os.getpid(), signal.SIGKILL)

    put(retoggle, "on_step", failpoint)


def command(*args: str) -> list[str]:
    """The command line that runs `diagnose ARGS…` through the harness."""
    return [sys.executable, HARNESS, *args]


if __name__ == "__main__":
    install()
    from diagnose.cli import main

    sys.argv[0] = "diagnose"
    main()
