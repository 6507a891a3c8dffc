"""The `--json` document: one object, `schema_version` first, stable keys."""

from __future__ import annotations

from typing import Any

from diagnose import __version__
from diagnose.checking import Check
from diagnose.errors import ExitCode
from diagnose.evidence import call_json
from diagnose.model import Diagnosis, Finding, Status
from diagnose.textsafe import one_line

SCHEMA_VERSION = 1


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "id": f.check_id,
        "status": f.status.value,
        "title": f.title,
        "message": f.message,
        "fix": f.fix,
        "target": {"kind": f.target.kind.value, "key": f.target.key, "label": f.target.label},
        "evidence": dict(f.evidence),
        "links": list(f.links),
        "cause": f.cause.value if f.cause else None,
    }


def error_json(message: str, exit_code: int) -> dict[str, Any]:
    """The document `--json` prints when there is no diagnosis: what went wrong, and the code
    the command exits with."""
    first, *rest = message.splitlines() or [""]
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "diagnose", "version": __version__},
        "exit_code": int(exit_code),
        "error": {"message": one_line(first), "details": [one_line(r) for r in rest]},
    }


def diagnosis_json(d: Diagnosis, exit_code: ExitCode) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "diagnose", "version": __version__},
        "mode": d.mode,
        "tenant": d.tenant,
        "checked_at": d.taken_at.isoformat(),
        "subject": {"kind": d.subject.kind.value, "ref": d.subject.ref, "label": d.headline},
        "status": d.status.value,
        "exit_code": int(exit_code),
        "summary": {s.value: d.count(s) for s in Status},
        "findings": [finding_json(f) for f in d.findings],
        "calls": [call_json(c) for c in d.calls],
        "rounds": d.rounds,
    }


def catalogue_json(checks: tuple[Check, ...]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "checks": [
            {
                "id": c.id,
                "title": c.title,
                "applies_to": c.applies_to,
                "requires": list(c.requires),
                "explanation": c.explanation,
                "fix": c.fix,
            }
            for c in checks
        ],
    }
