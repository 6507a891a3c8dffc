"""Named points in the remedies where a test may have the process killed, as by a power cut.

`DIAGNOSE_FAILPOINT=resync.after-untick` makes the process SIGKILL itself on reaching that
point: the way the tests prove that the journal recovers from a kill at every step. Unset, a
failpoint costs one lookup in the environment.
"""

from __future__ import annotations

import os
import signal

FAILPOINT_ENV = "DIAGNOSE_FAILPOINT"
RESYNC_STEPS = (
    "resync.before-untick",
    "resync.after-untick",
    "resync.after-tick",
    "resync.before-done",
)


def reached(name: str) -> None:
    if os.environ.get(FAILPOINT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
