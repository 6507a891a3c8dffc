"""The audit log: one JSON line for every write diagnose makes, and every write it refuses.

`<data folder>/audit.jsonl`: when, who (the configured staff name or the OS user), the profile
and tenant, the subject, the action, the value before and after, the API status and the Xero
correlation id. Appending a single line is atomic, so concurrent processes do not interleave.
No credential ever reaches it: entries are built from values, never from requests.
"""

from __future__ import annotations

import getpass
import json
import os
from datetime import UTC, datetime
from typing import Any

from diagnose.paths import audit_log
from diagnose.textsafe import json_text, xml_safe

STAFF_ENV = "DIAGNOSE_STAFF_NAME"


def staff_name() -> str:
    """Who is acting: the configured staff name, else the OS user."""
    configured = os.environ.get(STAFF_ENV, "").strip()
    if configured:
        return xml_safe(configured)
    try:
        return xml_safe(getpass.getuser())
    except (OSError, KeyError):
        return "unknown"


def record(
    *,
    action: str,
    subject: str,
    outcome: str,
    tenant: str,
    before: Any = None,
    after: Any = None,
    api_status: int | None = None,
    correlation_id: str | None = None,
    detail: str = "",
    profile: str = "sandbox",
) -> dict[str, Any]:
    entry = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "who": staff_name(),
        "profile": profile,
        "tenant": tenant,
        "subject": subject,
        "action": action,
        "outcome": outcome,
        "before": before,
        "after": after,
        "api_status": api_status,
        "correlation_id": correlation_id,
        "detail": detail,
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


def entries(subject: str | None = None) -> list[dict[str, Any]]:
    """The log, oldest first; only `subject`'s entries when given. Unreadable lines are skipped."""
    path = audit_log()
    if not path.exists():
        return []
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and (subject is None or entry.get("subject") == subject):
            found.append(entry)
    return found
