"""The interactive walkthrough (Textual). Textual is imported here and nowhere else."""

from __future__ import annotations

from typing import TYPE_CHECKING

from diagnose.model import SubjectKind

if TYPE_CHECKING:
    from diagnose.core import Core


def run_tui(core: Core, *, kind: SubjectKind | None = None, ref: str | None = None) -> None:
    from diagnose.tui.app import DiagnoseApp

    DiagnoseApp(core=core, kind=kind, ref=ref).run()
