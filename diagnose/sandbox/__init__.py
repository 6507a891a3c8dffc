"""The built-in sandbox: a demo tenant and an ASGI app that serves it as Wisenet and Xero do."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DEMO_TENANT = "demo_tenant.json"


def demo_tenant_path() -> Path:
    return Path(str(files("diagnose.sandbox").joinpath(DEMO_TENANT)))
