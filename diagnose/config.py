"""Profiles: which Wisenet and Xero a command talks to.

The built-in `sandbox` profile (the default) serves the sandbox tenant in-process. Live profiles
live in a TOML file in the platform's config folder (`$DIAGNOSE_CONFIG` names another file):

    default_profile = "college"

    [profiles.college]
    wisenet_url = "https://api.wisenet.co/v1"
    xero_url = "https://api.xero.com"
    xero_identity_url = "https://identity.xero.com"
    xero_client_id = "…"          # your Xero app
    xero_auth = "custom"          # a custom connection; "pkce": `diagnose connect xero`
    xero_tenant_id = "…"          # optional: else the organisation chosen at sign-in

The profile is `--profile`, else `$DIAGNOSE_PROFILE`, else `default_profile`, else `sandbox`.
Environment variables override the file (`DIAGNOSE_WISENET_URL`, `DIAGNOSE_XERO_URL`,
`DIAGNOSE_XERO_IDENTITY_URL`, `DIAGNOSE_XERO_CLIENT_ID`, `DIAGNOSE_XERO_TENANT_ID`). Secrets are
never kept in the file: `DIAGNOSE_WISENET_API_KEY` and `DIAGNOSE_XERO_CLIENT_SECRET`.
Plain http is accepted only for loopback addresses (`diagnose sandbox serve`). Certificates are
always verified; behind a TLS-inspecting proxy, `ca_bundle = "/path/to/cas.pem"` names the CAs to
trust. `timeout` (seconds for one answer, 15) and `max_wait` (the longest wait for a rate limit
before giving up with exit 4, 60) tune patience.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from diagnose.errors import UsageError

CONFIG_ENV = "DIAGNOSE_CONFIG"
PROFILE_ENV = "DIAGNOSE_PROFILE"
SANDBOX = "sandbox"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
FLAVOURS = ("AU", "NZ", "SA", "SG")  # Wisenet's learner endpoints: /learnersAU, /learnersNZ, …
SECRETS = {
    "wisenet_api_key": "DIAGNOSE_WISENET_API_KEY",
    "xero_client_secret": "DIAGNOSE_XERO_CLIENT_SECRET",
    "wisenet_client_secret": "DIAGNOSE_WISENET_CLIENT_SECRET",
}
REDIRECT_URI = "http://localhost:8749/callback"  # what to register in each developer portal


@dataclass(frozen=True)
class HttpOptions:
    """A profile's say in how we reach its services."""

    timeout: float = 15.0  # seconds for one answer to arrive
    max_wait: float = 60.0  # the longest we wait out a rate limit before giving up (exit 4)
    ca_bundle: str = ""  # a PEM file of the CAs to trust instead of the system's; never "none"


@dataclass(frozen=True)
class Profile:
    name: str
    wisenet_url: str = "https://api.wisenet.co/v1"
    wisenet_flavour: str = "AU"
    wisenet_auth: str = "api-key"  # or "oauth": sign in with `diagnose connect wisenet`
    wisenet_auth_url: str = "https://auth.wisenet.co"
    wisenet_client_id: str = ""
    wisenet_scopes: str = ""  # as set up for your app in Wisenet › Settings › Developer Tools
    wisenet_tenant: str = ""  # how plans and the audit log name your Wisenet (its LRM address)
    xero_url: str = "https://api.xero.com"
    xero_identity_url: str = "https://identity.xero.com"
    xero_login_url: str = "https://login.xero.com"
    xero_auth: str = "custom"  # "custom": a custom connection; "pkce": sign in with `connect`
    xero_client_id: str = ""
    xero_tenant_id: str = ""
    # what `connect xero` asks for: read-only; apps made since March 2026 need granular scopes
    xero_scopes: str = "openid offline_access accounting.contacts.read accounting.invoices.read"
    redirect_uri: str = REDIRECT_URI  # where a sign-in comes back to: register it exactly
    timeout: str = "15"  # seconds for one answer
    max_wait: str = "60"  # seconds we may wait out a rate limit before exit 4
    ca_bundle: str = ""  # a PEM file of CAs to trust (a TLS-inspecting proxy); never "off"
    timezone: str = "Australia/Sydney"  # the organisation's: reports show its time beside UTC

    @property
    def is_sandbox(self) -> bool:
        return self.name == SANDBOX

    @property
    def wisenet_label(self) -> str:
        """The Wisenet tenant as plans, confirmations and the audit log name it."""
        if self.wisenet_tenant:
            return self.wisenet_tenant
        return f"{urlsplit(self.wisenet_url).netloc} (learners{self.wisenet_flavour})"

    @property
    def http(self) -> HttpOptions:
        return HttpOptions(float(self.timeout), float(self.max_wait), self.ca_bundle)

    def secret(self, name: str) -> str:
        """A credential from the environment, else (the Wisenet API key) the one `diagnose
        connect wisenet` stored; never printed, logged or written anywhere else."""
        value = os.environ.get(SECRETS[name], "")
        if not value and name == "wisenet_api_key" and not self.is_sandbox:
            from diagnose.tokens import SecretStore

            value = SecretStore(self.name, "wisenet-api-key").load()
        return value


def config_path() -> Path:
    configured = os.environ.get(CONFIG_ENV)
    if configured:
        return Path(configured)
    from platformdirs import user_config_dir

    return Path(user_config_dir("diagnose", appauthor=False)) / "config.toml"


def read_config(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"config file {path} cannot be read: {exc}") from None
    except RecursionError:
        raise UsageError(f"config file {path} cannot be read: it is nested too deeply") from None


def _check_url(name: str, value: str, profile: str) -> str:
    parts = urlsplit(value)
    host = (parts.hostname or "").strip("[]")
    if parts.scheme == "https" and host:
        return value.rstrip("/")
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return value.rstrip("/")
    raise UsageError(
        f"profile {profile!r}: {name} {value!r} must be an https URL (plain http only on loopback)"
    )


def _check_redirect(value: str, profile: str) -> str:
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS or not port:
        raise UsageError(
            f"profile {profile!r}: redirect_uri {value!r} must be http://localhost:PORT/PATH "
            f"(a loopback address with a port, e.g. {REDIRECT_URI})"
        )
    return value


def _seconds(name: str, value: str, low: float, high: float, profile: str) -> str:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not low <= seconds <= high:
        raise UsageError(
            f"profile {profile!r}: {name} {value!r} must be seconds from {low:g} to {high:g}"
        )
    return f"{seconds:g}"


def load_profile(name: str | None = None) -> Profile:
    path = config_path()
    document = read_config(path)
    default = document.get("default_profile")
    chosen = name or os.environ.get(PROFILE_ENV) or (default if isinstance(default, str) else None)
    chosen = chosen or SANDBOX
    if chosen == SANDBOX:
        return Profile(SANDBOX)
    if len(chosen) > 64 or not chosen.isprintable():
        raise UsageError(
            f"{chosen[:40]!r}{'…' if len(chosen) > 40 else ''} is not a profile name: a name is "
            "at most 64 printable characters"
        )
    profiles = document.get("profiles")
    table = profiles.get(chosen) if isinstance(profiles, dict) else None
    if not isinstance(table, dict):
        if not path.exists():
            raise UsageError(
                f"no config file at {path}, so no profile {chosen!r}: run 'diagnose config init "
                f"{chosen}' to set it up (or point $DIAGNOSE_CONFIG at your file)"
            )
        names = sorted(profiles) if isinstance(profiles, dict) else []
        listed = f" (it has: {', '.join(names)})" if names else " (it has none)"
        raise UsageError(
            f"no profile {chosen!r} in {path}{listed}; 'diagnose config init {chosen}' adds it"
        )
    return profile_from(chosen, table, path)


def profile_from(
    chosen: str, table: dict[str, object], path: Path, *, overrides: bool = True
) -> Profile:
    """A profile from its table's settings, each checked (and, with `overrides`, the
    environment's `DIAGNOSE_<SETTING>` taking precedence); one line for the first bad one."""
    known = {f.name for f in fields(Profile)} - {"name"}
    unknown = set(table) - known
    if unknown:
        raise UsageError(f"profile {chosen!r} in {path}: unknown setting {sorted(unknown)[0]!r}")
    values = {key: str(value) for key, value in table.items()}
    for key in known if overrides else ():
        override = os.environ.get(f"DIAGNOSE_{key.upper()}")
        if override:
            values[key] = override
    for key in (
        "wisenet_url",
        "wisenet_auth_url",
        "xero_url",
        "xero_identity_url",
        "xero_login_url",
    ):
        if key in values:
            values[key] = _check_url(key, values[key], chosen)
    if "api.xro" in values.get("xero_url", "").lower():
        raise UsageError(
            f"profile {chosen!r}: xero_url is the API's host alone (https://api.xero.com), "
            "without /api.xro/2.0"
        )
    for key, low, high in (("timeout", 0.1, 600.0), ("max_wait", 0.0, 3600.0)):
        if key in values:
            values[key] = _seconds(key, values[key], low, high, chosen)
    if "redirect_uri" in values:
        values["redirect_uri"] = _check_redirect(values["redirect_uri"], chosen)
    if values.get("ca_bundle"):
        path_ = Path(values["ca_bundle"]).expanduser()
        if not path_.is_file():
            raise UsageError(f"profile {chosen!r}: ca_bundle {str(path_)!r} is not a file")
        values["ca_bundle"] = str(path_)
    if values.get("xero_auth", "custom") not in ("custom", "pkce"):
        raise UsageError(f"profile {chosen!r}: xero_auth is 'custom' or 'pkce'")
    if values.get("wisenet_flavour", "AU") not in FLAVOURS:
        raise UsageError(
            f"profile {chosen!r}: wisenet_flavour is one of {', '.join(FLAVOURS)} (the "
            "learners endpoint your Wisenet uses, /learnersAU for Australia)"
        )
    if values.get("wisenet_auth", "api-key") not in ("api-key", "oauth"):
        raise UsageError(f"profile {chosen!r}: wisenet_auth is 'api-key' or 'oauth'")
    if "timezone" in values and zone(values["timezone"]) is None:
        raise UsageError(
            f"profile {chosen!r}: timezone {values['timezone']!r} is not a time zone name "
            "(such as Australia/Sydney, Australia/Perth or Pacific/Auckland)"
        )
    return Profile(chosen, **values)


def zone(name: str) -> ZoneInfo | None:
    """The time zone called `name` (an IANA name), or None when there is none by that name."""
    try:
        return ZoneInfo(name) if name and "/" in name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def describe(profile: Profile) -> list[tuple[str, str]]:
    """The profile's settings for `config show`: secrets only as set / not set."""
    if profile.is_sandbox:
        return [("profile", SANDBOX), ("serves", "the built-in sandbox tenant, in-process")]
    rows = [("profile", profile.name)]
    rows += [(f.name, str(getattr(profile, f.name)) or "—") for f in fields(Profile)[1:]]
    rows += [
        (key, f"{'set' if profile.secret(key) else 'not set'} (${env})")
        for key, env in SECRETS.items()
    ]
    return rows
