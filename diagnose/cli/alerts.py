"""`diagnose alerts import|show`: the Event Alerts export a profile keeps (Wisenet has no API
for them); `diagnose sandbox export-alerts` lives with the sandbox commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from diagnose.cli.options import ProfileOpt
from diagnose.textsafe import counted, one_line

alerts_app = typer.Typer(
    help="Event Alerts exports (LRM › Reports › Event Alerts › Xero), kept for each profile.",
    no_args_is_help=True,
)


@alerts_app.command("import")
def alerts_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="The export: CSV or XLSX.")],
    profile: ProfileOpt = None,
) -> None:
    """Keep an Event Alerts export for the profile: every later command of it uses it, until
    the next import."""
    from diagnose.config import load_profile
    from diagnose.sources.alerts_export import keep, read_export

    chosen = load_profile(profile)
    export = read_export(file)
    keep(chosen.name, export)
    still_open = sum(1 for row in export.rows if not row.get("Acknowledged"))
    typer.echo(
        f"kept {counted(len(export.rows), 'alert')} ({still_open} not acknowledged) from "
        f"{file} for profile {chosen.name}"
    )
    for note in export.notes:
        typer.echo(f"note: {one_line(note)}", err=True)


@alerts_app.command("show")
def alerts_show(profile: ProfileOpt = None) -> None:
    """What each profile keeps: from which file, when it was imported, how many alerts."""
    from diagnose.render.text import fitted
    from diagnose.sources.alerts_export import kept, kept_profiles

    names = [profile] if profile else kept_profiles()
    if not names:
        typer.echo("no Event Alerts export is kept: 'diagnose alerts import FILE' keeps one")
        return
    for name in names:
        export = kept(name)
        if export is None:
            typer.echo(f"profile {name}: no Event Alerts export is kept")
            continue
        still_open = sum(1 for row in export.rows if not row.get("Acknowledged"))
        said = (
            f"profile {name}: {counted(len(export.rows), 'alert')}, {still_open} not "
            f"acknowledged, from {export.source}, imported {export.imported.replace('T', ' ')}"
        )
        lines = fitted(one_line(said), "  ")  # each wrapped to the terminal, under itself
        for row in export.rows:
            if not row.get("Acknowledged"):
                alert = (
                    f"{str(row.get('CreatedOn') or '')[:16]}  {row.get('RelatedRecord')}  "
                    f"{row.get('AlertType')}: {row.get('AlertDetails')}"
                )
                lines += fitted(one_line(alert), "    ", "  ")
        typer.echo("\n".join(lines))
