"""The errors `diagnose` raises, and the exit codes they map to.

    DiagnoseError                 one clear line for the user; carries an exit code
    ├── UsageError                bad input: an unusable reference, file or option      → 2
    │   ├── AmbiguousError        a name that matches several learners (with choices)   → 2
    │   ├── TenantFileError       a sandbox tenant file that cannot be used             → 2
    │   ├── SnapshotError         a snapshot that cannot be replayed                    → 2
    │   └── TemplateFileError     a Word template that cannot be used                   → 2
    ├── NotFoundError             the subject does not exist in the systems asked       → 2
    ├── SourceError               a service could not answer (see `Problem.kind`)       → 3 / 4
    └── RemedyError               a write could not finish: what state it left          → 3 or set
        └── Refusal               a write was not made, and why                         → 1

Errors of the HTTP library are translated into `SourceError` in `diagnose.sources.http`, the
one module that imports it. A failed *check* is never an exception: it is a Finding.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from diagnose.model import Finding, Problem, ProblemKind, Status


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


class TemplateFileError(UsageError):
    pass


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


class RemedyError(DiagnoseError):
    """A remedy could not finish; the message says what state it left and what to do."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.UNREACHABLE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class Refusal(RemedyError):
    """A remedy would not write: the message says why and what to do; nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.CHECK_FAILED)


def exit_code_for(kind: ProblemKind) -> ExitCode:
    if kind in (ProblemKind.RATE_LIMITED, ProblemKind.TIMEOUT):
        return ExitCode.RATE_LIMITED
    return ExitCode.UNREACHABLE


def findings_exit_code(findings: Iterable[Finding]) -> ExitCode:
    """The exit code of a diagnosis (or a scan) with these findings: 4 when a service
    rate-limited us or timed out, 3 when one was unreachable or refused us (the verdict is
    incomplete either way), else 1 when a check failed or crashed, else 0."""
    findings = list(findings)
    causes = [f.cause for f in findings if f.status is Status.ERROR and f.cause]
    sources = [exit_code_for(c) for c in causes if c is not ProblemKind.NOT_FETCHED]
    if sources:
        return max(sources)
    if any(f.status in (Status.FAIL, Status.ERROR) for f in findings):
        return ExitCode.CHECK_FAILED
    return ExitCode.OK
