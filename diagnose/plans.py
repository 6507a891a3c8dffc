"""What the core hands back before and after a write: the plan of a re-toggle or a Contact Code
fix — the exact writes, where, for --dry-run and the confirmation — and each learner's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field

from diagnose import remedy
from diagnose.errors import DiagnoseError
from diagnose.model import Diagnosis, Learner
from diagnose.where import Where


@dataclass
class ResyncPlan:
    where: Where
    ids: list[int]  # as named
    learners: list[Learner | DiagnoseError]  # in the same order; an error for one not read
    lines: list[str]  # the exact writes, for --dry-run and the confirmation

    @property
    def todo(self) -> list[Learner]:
        return [x for x in self.learners if not isinstance(x, DiagnoseError)]


@dataclass
class Outcome:
    learner_id: int
    message: str
    ok: bool
    error: DiagnoseError | None = None


@dataclass
class CodeFixPlan:
    where: Where
    fix: remedy.CodeFix
    diagnosis: Diagnosis
    key: str = field(default_factory=lambda: remedy.new_idempotency_key())
    steps: list[str] = field(default_factory=list)  # the exact requests, as they will be sent
    scope_refusal: str = ""  # the sign-in may not write contacts: how to grant it

    @property
    def lines(self) -> list[str]:
        fix = self.fix
        lines = [f"Set Contact Code {fix.code} on {fix.contact_name} ({fix.link}):"]
        if fix.differs:
            lines.append(f"  NOTE: this contact differs from the learner: {'; '.join(fix.differs)}")
        return lines + [f"  {step}" for step in self.steps]
