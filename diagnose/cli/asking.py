"""A remedy's plan shown on the terminal, and the person's go-ahead asked for."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from diagnose.errors import UsageError

if TYPE_CHECKING:
    from diagnose.where import Where


def shown(plans: list[str]) -> str:
    """A plan for the terminal: its sentences and notes wrapped to the width, its requests
    (indented) whole, as they will be sent."""
    from diagnose.render.text import fitted

    def parts(line: str) -> list[str]:
        if line.startswith("  NOTE: "):
            return fitted(line.strip(), "    ", first="  ")
        return [line] if line.startswith(" ") else fitted(line, "  ")

    return "\n".join(part for line in plans for part in parts(line))


def waiting(message: str) -> None:
    """Another command is writing to the sandbox: this one's writes wait their turn."""
    typer.echo(f"diagnose: {message}", err=True)


def confirm(plans: list[str], yes: bool, what: str, where: Where) -> str:
    """Show the plan on stderr and get the person's go-ahead; "" when given, else why not.

    On a live organisation the person types its name; on the sandbox y is enough."""
    typer.echo(shown(plans), err=True)
    if yes:
        return ""
    if not sys.stdin.isatty():
        raise UsageError(f"{what} needs --yes when it is not run at a terminal (nothing written)")
    phrase = where.confirm_phrase
    if phrase is None:
        return "" if typer.confirm("Make these writes?", err=True) else "not confirmed"
    typed = typer.prompt(
        f"These writes change {where.describe()}.\nType the organisation's name ({phrase}) "
        "to make them",
        default="",
        show_default=False,
        err=True,
    )
    return where.refusal(typed)
