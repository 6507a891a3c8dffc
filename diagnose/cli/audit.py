"""`diagnose audit`: every write diagnose made or refused."""

from __future__ import annotations

from typing import Annotated

import typer

from diagnose.textsafe import one_line


def audit_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document.")] = False,
    subject: Annotated[
        str | None, typer.Option("--subject", help='Only this subject, e.g. "learner 103".')
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", metavar="NAME", help="Only the writes made through NAME."),
    ] = None,
) -> None:
    """Show the audit log: every write diagnose made or refused — who, when, where (profile,
    organisation), before and after, and the result."""
    from diagnose import audit
    from diagnose.paths import audit_log
    from diagnose.textsafe import json_text

    entries = audit.entries(subject, profile)
    if as_json:
        typer.echo(json_text({"schema_version": 2, "log": str(audit_log()), "entries": entries}))
        return
    if not entries:
        typer.echo(f"no write recorded yet ({audit_log()})")
        return
    for e in entries:
        status = f" HTTP {e['api_status']}" if e.get("api_status") else ""
        where = f"{e.get('profile', 'sandbox')} · {e.get('tenant', '')}"
        typer.echo(
            one_line(
                f"{e.get('when')}  {e.get('who')}  {where}  {e.get('action')}  "
                f"{e.get('subject')}  {e.get('outcome')}{status}  {e.get('detail', '')}"
            )
        )
