"""The audit log: one JSON line for every write diagnose makes, and every write it refuses.

`<data folder>/audit.jsonl`: when, who (the configured staff name and the OS user), the profile,
the Xero organisation (name and id) and the Wisenet tenant, the subject, the action, the value
before and after, the API status, the Xero correlation id and every request the remedy made
(method, path, status, correlation id). Appending a single line is atomic, so concurrent
processes do not interleave. No credential ever reaches it: entries are built from values,
never from request headers or bodies.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from diagnose.errors import UsageError
from diagnose.paths import audit_log
from diagnose.textsafe import json_text, xml_safe

if TYPE_CHECKING:
    from diagnose.where import Where

STAFF_ENV = "DIAGNOSE_STAFF_NAME"


def os_user() -> str:
    try:
        return xml_safe(getpass.getuser())
    except (OSError, KeyError):
        return "unknown"


def staff_name() -> str:
    """Who is acting: the configured staff name, else the OS user."""
    configured = os.environ.get(STAFF_ENV, "").strip()
    return xml_safe(configured) if configured else os_user()


def record(
    *,
    action: str,
    subject: str,
    outcome: str,
    where: Where,
    before: Any = None,
    after: Any = None,
    api_status: int | None = None,
    correlation_id: str | None = None,
    detail: str = "",
    requests: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    entry = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "who": staff_name(),
        "os_user": os_user(),
        **where.audit_fields(),
        "subject": subject,
        "action": action,
        "outcome": outcome,
        "before": before,
        "after": after,
        "api_status": api_status,
        "correlation_id": correlation_id,
        "detail": detail,
        "requests": requests or [],
    }
    path = audit_log()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json_text(entry) + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)
    return entry


MIN_FREE = 1024 * 1024  # bytes the audit log's disk must have before a write is started


def ready() -> None:
    """Refuse a write before it starts when its audit line (or journal entry) could not be kept:
    a read-only or full disk, or a data folder that is a file. One line, exit 2, nothing done."""
    path = audit_log()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "journal").mkdir(exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
        free = shutil.disk_usage(path.parent).free
    except OSError as exc:
        raise UsageError(
            f"cannot keep the audit log at {path}: {exc.strerror or exc}; nothing was written"
        ) from None
    if free < MIN_FREE:
        raise UsageError(
            f"the disk holding {path} is full; nothing was written (an audit line must be kept)"
        )


def entries(subject: str | None = None, profile: str | None = None) -> list[dict[str, Any]]:
    """The log, oldest first; only `subject`'s and `profile`'s entries when given. Unreadable
    lines are skipped."""
    path = audit_log()
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            continue
        if not isinstance(entry, dict):
            continue
        if subject is not None and entry.get("subject") != subject:
            continue
        if profile is not None and entry.get("profile", "sandbox") != profile:
            continue
        found.append(entry)
    return found
