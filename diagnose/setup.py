"""`diagnose config init`: a new profile from a few answers, written to the config file.

What the person is asked (or a script passes as flags): the Wisenet API address and learner
flavour, how Wisenet is signed in to, which kind of Xero app the organisation has, and the client
ids. The profile is appended to the config file as a TOML table; the file's other contents are
kept as they are. What to register in each developer portal is said at the end.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from diagnose.config import FLAVOURS, REDIRECT_URI, SANDBOX, profile_from, read_config
from diagnose.errors import UsageError
from diagnose.paths import write_atomically

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
CUSTOM_NOTE = (
    "A Xero custom connection is a paid Xero add-on, for organisations in Australia, New "
    "Zealand, the UK and the US; it is bound to one organisation and needs its client secret in "
    "$DIAGNOSE_XERO_CLIENT_SECRET."
)


@dataclass
class Answers:
    name: str
    wisenet_url: str = "https://api.wisenet.co/v1"
    wisenet_flavour: str = "AU"
    wisenet_auth: str = "oauth"
    wisenet_client_id: str = ""
    xero_auth: str = "pkce"
    xero_client_id: str = ""
    redirect_port: int = 8749

    @property
    def redirect_uri(self) -> str:
        return REDIRECT_URI.replace(":8749/", f":{self.redirect_port}/")

    def problems(self) -> list[str]:
        """What keeps these answers from making a usable profile."""
        found = []
        if not NAME.fullmatch(self.name) or self.name == SANDBOX:
            found.append(f"profile name {self.name!r}: letters, digits, - and _ (not 'sandbox')")
        if not self.xero_client_id:
            found.append("--xero-client-id is needed (Xero developer portal › My Apps)")
        if self.wisenet_auth == "oauth" and not self.wisenet_client_id:
            found.append(
                "--wisenet-client-id is needed for Wisenet's sign-in (Wisenet › Settings › "
                "Developer Tools), or --wisenet-auth api-key"
            )
        if not 1024 <= self.redirect_port <= 65535:
            found.append("--redirect-port is from 1024 to 65535")
        return found

    def values(self) -> dict[str, object]:
        values: dict[str, object] = {
            "wisenet_url": self.wisenet_url,
            "wisenet_flavour": self.wisenet_flavour,
            "wisenet_auth": self.wisenet_auth,
            "xero_auth": self.xero_auth,
            "xero_client_id": self.xero_client_id,
            "redirect_uri": self.redirect_uri,
        }
        if self.wisenet_auth == "oauth":
            values["wisenet_client_id"] = self.wisenet_client_id
        return values

    def table(self) -> str:
        """The profile as a TOML table (strings as JSON strings: valid TOML basic strings)."""
        lines = [f"[profiles.{self.name}]"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in self.values().items()]
        return "\n".join(lines) + "\n"


CHOICES = {  # the settings answered by a choice, as the profile writes them
    "wisenet_flavour": FLAVOURS,
    "wisenet_auth": ("oauth", "api-key"),
    "xero_auth": ("pkce", "custom"),
}


def checked_answer(setting: str, typed: str, path: Path, name: str = "") -> str:
    """One answer as the profile will hold it (a choice in its own case), or a UsageError
    saying what is wrong with it: a person at a terminal is asked again at once, instead of
    learning at the end that nothing was written."""
    typed = typed.strip()
    if setting in CHOICES:
        known = {choice.casefold(): choice for choice in CHOICES[setting]}
        if typed.casefold() not in known:
            raise UsageError(f"one of {', '.join(CHOICES[setting])}")
        return known[typed.casefold()]
    if setting == "name":
        if not NAME.fullmatch(typed) or typed == SANDBOX:
            raise UsageError("letters, digits, - and _, up to 40 (not 'sandbox')")
        profiles = read_config(path).get("profiles")
        if isinstance(profiles, dict) and typed in profiles:
            raise UsageError(f"{path} has a profile {typed!r} already: choose another name")
    elif setting.endswith("client_id"):
        if not typed:
            raise UsageError("the app's client id is needed (its developer portal shows it)")
    elif setting == "redirect_port":
        if not typed.isdecimal() or not 1024 <= int(typed) <= 65535:
            raise UsageError("a port number from 1024 to 65535")
    else:
        profile = profile_from(name or "new", {setting: typed}, path, overrides=False)
        return str(getattr(profile, setting))
    return typed


def browser_sign_in(answers: Answers) -> bool:
    """Whether a person signs in through a browser (Xero PKCE, Wisenet OAuth): only then is
    there a redirect URI to register, and a port for it."""
    return answers.xero_auth == "pkce" or answers.wisenet_auth == "oauth"


def write_profile(path: Path, answers: Answers) -> None:
    """Append the profile to the config file (made when missing); refuse a name in use or
    answers that would not load, before anything is written."""
    problems = answers.problems()
    if problems:
        raise UsageError("; ".join(problems) + " (nothing written)")
    try:  # the settings are checked as every later command will check them
        profile_from(answers.name, answers.values(), path, overrides=False)
    except UsageError as exc:
        raise UsageError(f"{exc} (nothing written)") from None
    document = read_config(path)
    profiles = document.get("profiles")
    if isinstance(profiles, dict) and answers.name in profiles:
        raise UsageError(
            f"profile {answers.name!r} is already in {path}: edit it there, or choose another "
            "name (nothing written)"
        )
    existing = path.read_text(encoding="utf-8").rstrip("\n") if path.exists() else ""
    write_atomically(path, (existing + "\n\n" if existing else "") + answers.table())


def next_steps(answers: Answers) -> list[str]:
    """What to do once the profile is written: the redirect URI to register in the portals
    that need one (none when nobody signs in through a browser), then how to connect."""
    name = answers.name
    portals = []
    if answers.xero_auth == "pkce":
        portals.append(
            "Xero: the developer portal › My Apps › your app (type 'Auth code with PKCE'): "
            "its redirect URIs."
        )
    if answers.wisenet_auth == "oauth":
        portals.append("Wisenet: Settings › Developer Tools › your app's redirect URIs.")
    steps = []
    if portals:
        where = "each developer portal" if len(portals) > 1 else "its developer portal"
        steps += [f"Register this redirect URI, exactly, in {where}:", f"  {answers.redirect_uri}"]
        steps += [f"  {portal}" for portal in portals]
    if answers.xero_auth == "custom":
        steps += [CUSTOM_NOTE]
    steps += ["Then connect:"]
    if answers.xero_auth == "pkce":
        steps += [f"  diagnose connect xero --profile {name}"]
    else:
        steps += ["  export DIAGNOSE_XERO_CLIENT_SECRET=…   (the custom connection's secret)"]
    steps += [f"  diagnose connect wisenet --profile {name}"]
    steps += [f"and try it: diagnose learner ID --profile {name}"]
    return steps
