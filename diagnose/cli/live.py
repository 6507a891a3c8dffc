"""The commands about connections: `config show`, `status`, `connect`, `disconnect`.

Kept apart from the diagnosis commands in `diagnose.cli`; heavy modules are imported inside each
command, as there.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from diagnose.cli.options import ProfileOpt
from diagnose.errors import ExitCode, UsageError
from diagnose.textsafe import one_line

config_app = typer.Typer(help="The profiles: which Wisenet and Xero a command talks to.")


@config_app.command("show")
def config_show(profile: ProfileOpt = None) -> None:
    """Print the profile in use and where its settings come from; secrets only as set."""
    from diagnose.config import config_path, describe, load_profile
    from diagnose.render.text import fitted

    typer.echo(f"config file: {config_path()}")
    rows = describe(load_profile(profile))
    wide = max(len(key) for key, _ in rows)
    for key, value in rows:  # a long value (the scopes) goes on under itself
        typer.echo("\n".join(fitted(f"  {key:<{wide}}  {one_line(value)}", " " * (wide + 4))))


@config_app.command("init")
def config_init(
    name: Annotated[str, typer.Argument(metavar="[NAME]", help="The new profile's name.")] = "",
    wisenet_url: Annotated[
        str | None, typer.Option("--wisenet-url", help="Wisenet's API address.")
    ] = None,
    flavour: Annotated[
        str | None, typer.Option("--flavour", help="The learners endpoint: AU, NZ, SA or SG.")
    ] = None,
    wisenet_auth: Annotated[
        str | None, typer.Option("--wisenet-auth", help="oauth (the default) or api-key.")
    ] = None,
    wisenet_client_id: Annotated[
        str | None, typer.Option("--wisenet-client-id", help="Wisenet › Developer Tools.")
    ] = None,
    xero_auth: Annotated[
        str | None,
        typer.Option("--xero-auth", help="pkce (a web app, the default) or custom (paid)."),
    ] = None,
    xero_client_id: Annotated[
        str | None, typer.Option("--xero-client-id", help="Xero developer portal › My Apps.")
    ] = None,
    redirect_port: Annotated[
        int | None, typer.Option("--redirect-port", help="The sign-in's port (8749).")
    ] = None,
    no_status: Annotated[
        bool, typer.Option("--no-status", help="Do not check the services at the end.")
    ] = False,
) -> None:
    """Set up a live profile: asks for each setting at a terminal (flags answer in scripts),
    writes it, says which redirect URI to register, and checks the services."""
    import asyncio

    from diagnose.config import config_path
    from diagnose.render.text import fitted
    from diagnose.setup import (
        CUSTOM_NOTE,
        Answers,
        browser_sign_in,
        checked_answer,
        next_steps,
        write_profile,
    )

    asking = sys.stdin.isatty()
    answers = Answers(name or "")
    path = config_path()

    def ask(given: str | None, question: str, default: str, setting: str) -> str:
        """A flag's value as given (the whole profile is checked before it is written), else
        the answer typed at a terminal, asked again until it would do, else the default."""
        if given is not None:
            return given.strip()
        if not asking:
            return default

        def answer(typed: str) -> str:
            try:
                return checked_answer(setting, typed, path, answers.name)
            except UsageError as exc:
                raise typer.BadParameter(one_line(str(exc))) from None

        return str(typer.prompt(question, default=default, err=True, value_proc=answer))

    def say(text: str, *, err: bool = False) -> None:
        """A line of advice wrapped to the terminal, its indent kept (never a word cut)."""
        first = text[: len(text) - len(text.lstrip())]  # an indented line: a command, a step
        typer.echo("\n".join(fitted(text.strip(), first and first + "  ", first)), err=err)

    answers.name = ask(name or None, "Profile name", "college", "name")
    answers.wisenet_url = ask(
        wisenet_url, "Wisenet API address", answers.wisenet_url, "wisenet_url"
    )
    answers.wisenet_flavour = ask(
        flavour, "Learner flavour (AU, NZ, SA, SG)", "AU", "wisenet_flavour"
    ).upper()
    answers.wisenet_auth = ask(
        wisenet_auth,
        "Wisenet sign-in: oauth, or api-key (deprecated by Wisenet)",
        "oauth",
        "wisenet_auth",
    )
    if answers.wisenet_auth == "oauth":
        answers.wisenet_client_id = ask(
            wisenet_client_id,
            "Wisenet app client id (Settings › Developer Tools)",
            "",
            "wisenet_client_id",
        )
    if asking and xero_auth is None:
        say(f"Xero app: pkce for an 'Auth code with PKCE' app; custom: {CUSTOM_NOTE}", err=True)
    answers.xero_auth = ask(xero_auth, "Xero app type: pkce or custom", "pkce", "xero_auth")
    answers.xero_client_id = ask(xero_client_id, "Xero app client id", "", "xero_client_id")
    given_port = None if redirect_port is None else str(redirect_port)
    if given_port is not None or browser_sign_in(answers):  # else no sign-in to come back to
        port = ask(given_port, "Sign-in port", "8749", "redirect_port")
        try:
            answers.redirect_port = int(port)
        except ValueError:
            raise UsageError(f"sign-in port {port!r} is not a number (nothing written)") from None
    write_profile(path, answers)
    typer.echo(f"✓ profile {answers.name} written to {path}")
    for step in next_steps(answers):
        say(step)
    if no_status:
        return
    from diagnose.core import open_core

    typer.echo(f"\ndiagnose status --profile {answers.name}:")
    try:
        lines = asyncio.run(open_core(answers.name).status())
    except UsageError as exc:  # not signed in yet: expected on a new profile
        say(f"  – {one_line(str(exc))}")
        return
    typer.echo("\n".join(shown_status(lines)))


def shown_status(lines: list[Any]) -> list[str]:
    """Each service's line of `diagnose status` (`status.Line`), and its fix, wrapped to the
    terminal under themselves."""
    from diagnose.render.text import fitted

    shown = []
    for line in lines:
        head = f"  {'✓' if line.ok else '✗'} {line.service:<8} "
        shown += fitted(one_line(line.text), " " * len(head), head)
        if line.fix:
            shown += fitted(one_line(line.fix), " " * 8, "      → ")
    return shown


def status(profile: ProfileOpt = None) -> None:
    """Can this profile reach Wisenet and Xero? Organisation, token lifetime, headroom."""
    import asyncio

    from diagnose.core import open_core

    core = open_core(profile)
    lines = asyncio.run(core.status())
    typer.echo(f"profile {core.profile.name}")
    typer.echo("\n".join(shown_status(lines)))
    if not all(line.ok for line in lines):
        raise typer.Exit(int(ExitCode.UNREACHABLE))


def connect(
    service: Annotated[
        str, typer.Argument(metavar="xero|wisenet", help="The service to connect the profile to.")
    ],
    profile: ProfileOpt = None,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="The organisation's tenant id, if several.")
    ] = None,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the sign-in address; open nothing.")
    ] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait.")] = 300.0,
    api_key_stdin: Annotated[
        bool, typer.Option("--api-key-stdin", help="wisenet: read the API key from stdin.")
    ] = False,
    redirect_port: Annotated[
        int,
        typer.Option(
            "--redirect-port", help="Sign-in: the loopback port your app registered (else any)."
        ),
    ] = 0,
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="xero: also ask to change contacts (accounting.contacts), which 'diagnose fix "
            "contact-code' needs; Xero asks for consent again.",
        ),
    ] = False,
) -> None:
    """Sign a live profile in to Xero (OAuth with PKCE in your browser), or give it the Wisenet
    API key (asked for without echo, or read from stdin — never a command-line argument)."""
    import asyncio
    from dataclasses import replace

    from diagnose.config import load_profile
    from diagnose.connect import connect_xero

    chosen = load_profile(profile)
    if service == "wisenet" and chosen.wisenet_auth == "oauth":
        from diagnose.connect import connect_wisenet_oauth

        asyncio.run(
            connect_wisenet_oauth(
                chosen,
                announce=lambda text: typer.echo(text, err=True),
                open_browser=not no_browser,
                timeout=timeout,
                redirect_port=redirect_port,
            )
        )
        typer.echo(f"✓ profile {chosen.name} is signed in to Wisenet")
        return
    if service == "wisenet":
        _connect_wisenet(chosen, api_key_stdin)
        return
    if service != "xero":
        raise UsageError("say 'diagnose connect xero' or 'diagnose connect wisenet'")
    if tenant:
        chosen = replace(chosen, xero_tenant_id=tenant)
    if write:
        if chosen.xero_auth != "pkce":
            raise UsageError(
                f"profile {chosen.name!r} uses a Xero custom connection: its scopes are set in "
                "the Xero developer portal (add accounting.contacts there), not by signing in"
            )
        chosen = replace(chosen, xero_scopes=write_scopes(chosen.xero_scopes))

    def choose(organisations: list[tuple[str, str]]) -> str:
        """A pick-list at a terminal; elsewhere, the list and --tenant."""
        listing = "\n".join(
            f"  {n}. {one_line(name)}  ({tid})" for n, (tid, name) in enumerate(organisations, 1)
        )
        if not sys.stdin.isatty():
            raise UsageError(f"choose an organisation with --tenant:\n{listing}")
        typer.echo(f"The sign-in allows several organisations:\n{listing}", err=True)
        picked = int(typer.prompt("Which one (number)", type=int, err=True))
        if not 1 <= picked <= len(organisations):
            raise UsageError(f"{picked} is not one of the organisations listed; nothing was stored")
        return organisations[picked - 1][0]

    grant = asyncio.run(
        connect_xero(
            chosen,
            announce=lambda text: typer.echo(text, err=True),
            choose=choose,
            open_browser=not no_browser,
            timeout=timeout,
            redirect_port=redirect_port,
        )
    )
    typer.echo(f"✓ profile {chosen.name} is signed in to Xero: {one_line(grant.tenant_name)}")


def write_scopes(scopes: str) -> str:
    """The sign-in's scopes with contacts writable: `accounting.contacts` instead of its
    read-only form (it covers reading too)."""
    kept = [s for s in scopes.split() if s != "accounting.contacts.read"]
    return " ".join([*kept, "accounting.contacts"] if "accounting.contacts" not in kept else kept)


def _connect_wisenet(profile: Any, from_stdin: bool) -> None:
    import asyncio

    from diagnose.model import Service
    from diagnose.sources.calls import CallLog
    from diagnose.sources.http import Session
    from diagnose.sources.wisenet import WisenetClient
    from diagnose.tokens import SecretStore

    if profile.is_sandbox:
        raise UsageError("the sandbox needs no API key; name a live profile with --profile")
    if from_stdin:
        key = sys.stdin.readline().strip()
    elif sys.stdin.isatty():
        key = typer.prompt("Wisenet API key", hide_input=True, err=True).strip()
    else:
        raise UsageError("give the key with --api-key-stdin, or run at a terminal to be asked")
    if not key:
        raise UsageError("the API key is empty; nothing was stored")

    async def check() -> None:
        headers = {"x-api-key": key}
        async with Session(
            Service.WISENET,
            profile.wisenet_url,
            CallLog(),
            headers=headers,
            options=profile.http,
            setting="wisenet_url",
        ) as s:
            await WisenetClient(s, flavour=profile.wisenet_flavour).find_learners(search="", take=1)

    asyncio.run(check())  # a refused key is exit 3 here, and nothing is stored
    SecretStore(profile.name, "wisenet-api-key").save(key)
    typer.echo(f"✓ profile {profile.name} reaches Wisenet with the key (kept; never shown)")


def disconnect(
    service: Annotated[
        str, typer.Argument(metavar="xero|wisenet", help="The service to disconnect.")
    ],
    profile: ProfileOpt = None,
) -> None:
    """Revoke the profile's Xero sign-in and forget it, or forget its Wisenet API key."""
    import asyncio

    from diagnose.config import load_profile
    from diagnose.connect import disconnect_xero
    from diagnose.tokens import SecretStore

    chosen = load_profile(profile)
    if service == "wisenet":
        from diagnose.tokens import Store

        SecretStore(chosen.name, "wisenet-api-key").forget()
        Store(chosen.name, "wisenet").forget()
        typer.echo(f"profile {chosen.name} no longer keeps a Wisenet API key or sign-in")
        return
    if service != "xero":
        raise UsageError("say 'diagnose disconnect xero' or 'diagnose disconnect wisenet'")
    typer.echo(asyncio.run(disconnect_xero(chosen)))
