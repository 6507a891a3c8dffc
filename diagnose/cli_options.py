"""Options that several commands share, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile", metavar="NAME", help="A live profile (env: DIAGNOSE_PROFILE); default sandbox."
    ),
]
SandboxOpt = Annotated[
    Path | None,
    typer.Option(
        "--sandbox",
        "--tenant",
        metavar="FILE",
        help="Serve this tenant file instead of the built-in demo (env: DIAGNOSE_SANDBOX).",
    ),
]
AlertsOpt = Annotated[
    Path | None,
    typer.Option(
        "--alerts",
        metavar="FILE",
        help="An Event Alerts export (LRM › Reports › Event Alerts › Xero; CSV or XLSX).",
    ),
]
