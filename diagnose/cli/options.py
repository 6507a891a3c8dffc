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
JsonOpt = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON document on stdout; everything else on stderr."),
]
VerboseOpt = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show passing checks, evidence and API calls.")
]
OnlyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--only",
        metavar="ID",
        help="Report only these check ids (repeat, or separate with commas).",
    ),
]
SaveOpt = Annotated[
    Path | None,
    typer.Option("--save", metavar="FILE", help="Also write the evidence as a JSON snapshot."),
]
ReportOpt = Annotated[
    str | None,
    typer.Option(
        "--report",
        metavar="[FILE]",
        help="Also write the Word support request (default name: "
        "support-request-<subject>-<date>.docx in the current folder).",
    ),
]
TemplateOpt = Annotated[
    Path | None,
    typer.Option("--template", metavar="FILE", help="Word template for --report."),
]
RedactOpt = Annotated[
    bool,
    typer.Option(
        "--redact",
        help="Replace names, emails, phones and streets in all this prints and writes (the "
        "--report document too); not with --save.",
    ),
]
