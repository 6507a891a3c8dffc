"""The interactive walkthrough (Textual). Textual is imported here and nowhere else."""

from __future__ import annotations

from pathlib import Path

from diagnose.model import SubjectKind


def run_tui(
    *, sandbox: Path | None = None, kind: SubjectKind | None = None, ref: str | None = None
) -> None:
    from diagnose.tui.app import DiagnoseApp

    DiagnoseApp(sandbox=sandbox, kind=kind, ref=ref).run()
