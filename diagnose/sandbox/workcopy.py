"""The sandbox's working copy: writes change the tenant, and the next command sees them.

The tenant a command starts from is the working copy in the user data folder when there is one,
else the source file (the built-in demo, or `--sandbox FILE`). The first write creates the
working copy; the source file itself is never modified. `diagnose sandbox reset` deletes it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from diagnose.paths import sandbox_dir, write_atomically
from diagnose.sandbox.tenant import FORMAT, Tenant, load_tenant


def working_copy_path(source: Path, *, demo: bool) -> Path:
    if demo:
        return sandbox_dir() / "demo.json"
    digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:16]
    return sandbox_dir() / f"{source.stem}-{digest}.json"


def load_working(source: Path, *, demo: bool) -> tuple[Tenant, Path]:
    """The tenant as the last write left it, and where the next write goes."""
    copy = working_copy_path(source, demo=demo)
    tenant = load_tenant(copy if copy.exists() else source)
    return tenant, copy


def save_working(tenant: Tenant, copy: Path) -> None:
    document = {
        "format": FORMAT,
        "name": tenant.name,
        "wisenet": {
            "learners": tenant.learners,
            "invoices": tenant.wisenet_invoices,
            "combos": {"states": tenant.states, "countries": tenant.countries},
            **({"event_alerts": tenant.event_alerts} if tenant.event_alerts is not None else {}),
        },
        "xero": {
            "connections": tenant.connections,
            "contacts": tenant.contacts,
            "invoices": tenant.invoices,
            **(
                {"organisation": tenant.organisation_details}
                if tenant.organisation_details is not None
                else {}
            ),
        },
    }
    write_atomically(copy, json.dumps(document, indent=1, ensure_ascii=True) + "\n")


def writes_log(copy: Path) -> Path:
    """Every write the sandbox accepted, a JSON line each: what the tool changed, and when."""
    return copy.with_suffix(".writes.jsonl")


def record_write(copy: Path, what: str) -> None:
    line = json.dumps({"at": datetime.now(UTC).isoformat(timespec="milliseconds"), "write": what})
    with open(writes_log(copy), "a", encoding="utf-8") as log:
        log.write(line + "\n")


def reset(source: Path, *, demo: bool) -> bool:
    """Forget every write: True when there was a working copy to delete."""
    copy = working_copy_path(source, demo=demo)
    writes_log(copy).unlink(missing_ok=True)
    if copy.exists():
        copy.unlink()
        return True
    return False
