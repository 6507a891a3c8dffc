"""The built-in sandbox: a demo tenant and an ASGI app that serves it as Wisenet and Xero do."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

DEMO_TENANT = "demo_tenant.json"
SANDBOX_ENV = "DIAGNOSE_SANDBOX"


def demo_tenant_path() -> Path:
    return Path(str(files("diagnose.sandbox").joinpath(DEMO_TENANT)))


def sandbox_source(path: Path | None) -> tuple[Path, bool]:
    """The tenant file to serve — `--sandbox`, then `$DIAGNOSE_SANDBOX`, then the demo tenant
    shipped in the package — and whether it is that demo."""
    if path is None and os.environ.get(SANDBOX_ENV):
        path = Path(os.environ[SANDBOX_ENV])
    if path is None:
        return demo_tenant_path(), True
    return path, False
