"""The errors `diagnose` raises, and the exit codes they map to.

    DiagnoseError                 one clear line for the user; carries an exit code
    ├── UsageError                bad input: an unusable reference, file or option      → 2
    │   ├── AmbiguousError        a name that matches several learners (with choices)   → 2
    │   ├── TenantFileError       a sandbox tenant file that cannot be used             → 2
    │   └── SnapshotError         a snapshot that cannot be replayed                    → 2
    ├── NotFoundError             the subject does not exist in the systems asked       → 2
    └── SourceError               a service could not answer (see `Problem.kind`)       → 3 / 4

Errors of the HTTP library are translated into `SourceError` in `diagnose.sources.http`, the
one module that imports it. A failed *check* is never an exception: it is a Finding.
"""

from __future__ import annotations

from enum import IntEnum

from diagnose.model import Diagnosis, Problem, ProblemKind, Status


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    UNREACHABLE = 3
    RATE_LIMITED = 4
    INTERNAL = 70
    INTERRUPTED = 130


class DiagnoseError(Exception):
    exit_code: ExitCode = ExitCode.USAGE


class UsageError(DiagnoseError):
    exit_code = ExitCode.USAGE


class TenantFileError(UsageError):
    pass


class SnapshotError(UsageError):
    pass


class AmbiguousError(UsageError):
    """A name matched several learners: `choices` are (LearnerId, RefInternal, name)."""

    def __init__(self, message: str, choices: list[tuple[int, str, str]]) -> None:
        super().__init__(message)
        self.choices = choices


class NotFoundError(DiagnoseError):
    exit_code = ExitCode.USAGE


class SourceError(DiagnoseError):
    """A service did not give a usable answer."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem

    @property
    def exit_code(self) -> ExitCode:  # type: ignore[override]
        return exit_code_for(self.problem.kind)


def exit_code_for(kind: ProblemKind) -> ExitCode:
    if kind in (ProblemKind.RATE_LIMITED, ProblemKind.TIMEOUT):
        return ExitCode.RATE_LIMITED
    return ExitCode.UNREACHABLE


def diagnosis_exit_code(diagnosis: Diagnosis) -> ExitCode:
    """4 when a service rate-limited us or timed out, 3 when one was unreachable or refused us
    (the verdict is incomplete either way), else 1 when a check failed or crashed, else 0."""
    causes = [f.cause for f in diagnosis.findings if f.status is Status.ERROR and f.cause]
    sources = [exit_code_for(c) for c in causes if c is not ProblemKind.NOT_FETCHED]
    if sources:
        return max(sources)
    if any(f.status in (Status.FAIL, Status.ERROR) for f in diagnosis.findings):
        return ExitCode.CHECK_FAILED
    return ExitCode.OK
