"""Where a profile's Xero sign-in is kept between commands.

The refresh token goes to the OS keyring when there is one, else into a file only the user can
read (0600) in the data folder, beside the organisation chosen. Access tokens stay in memory.
Refreshing happens under a file lock, and the new refresh token is stored *before* the new
access token is used: Xero's refresh tokens are single-use, so two processes must never race.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock

from diagnose.paths import data_dir, write_atomically

KEYRING_SERVICE = "diagnose"
KEYRING_ENV = "DIAGNOSE_KEYRING"  # "0": never use the OS keyring


@dataclass(frozen=True)
class Grant:
    refresh_token: str = field(repr=False)
    tenant_id: str
    tenant_name: str
    scope: str = ""
    saved: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def rotated(self, refresh_token: str) -> Grant:
        return replace(
            self, refresh_token=refresh_token, saved=datetime.now(UTC).isoformat(timespec="seconds")
        )


def _keyring() -> object | None:
    if os.environ.get(KEYRING_ENV) == "0":
        return None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None
    backend = keyring.get_keyring()
    return None if isinstance(backend, fail.Keyring) else keyring


class Store:
    """One profile's sign-in to one service (Xero unless `service` says otherwise)."""

    def __init__(self, profile: str, service: str = "xero") -> None:
        self.profile = profile
        self.service = service
        stem = profile if service == "xero" else f"{profile}.{service}"
        folder = data_dir() / "tokens"
        self.path = folder / f"{stem}.json"
        self.lock_path = folder / f"{stem}.lock"

    def lock(self) -> FileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.lock_path), timeout=60)

    def load(self) -> Grant | None:
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError):
            return None
        if record.pop("refresh_token_in_keyring", False):
            ring = _keyring()
            secret = ring.get_password(KEYRING_SERVICE, self._key()) if ring else None  # type: ignore[attr-defined]
            if not secret:
                return None
            record["refresh_token"] = secret
        try:
            return Grant(**record)
        except TypeError:
            return None

    def save(self, grant: Grant) -> None:
        record = asdict(grant)
        ring = _keyring()
        if ring is not None:
            ring.set_password(KEYRING_SERVICE, self._key(), grant.refresh_token)  # type: ignore[attr-defined]
            record.pop("refresh_token")
            record["refresh_token_in_keyring"] = True
        _write_private(self.path, json.dumps(record) + "\n")

    def forget(self) -> None:
        ring = _keyring()
        if ring is not None:
            with contextlib.suppress(Exception):  # nothing stored there is fine
                ring.delete_password(KEYRING_SERVICE, self._key())  # type: ignore[attr-defined]
        self.path.unlink(missing_ok=True)

    def _key(self) -> str:
        return f"{self.profile}/{self.service}-refresh-token"


def _write_private(path: Path, text: str) -> None:
    """Written readable by the owner only (0600, in a 0700 folder), flushed, then renamed."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    write_atomically(path, text, mode=0o600)


class SecretStore:
    """One named secret of a profile (the Wisenet API key): the OS keyring, else a 0600 file."""

    def __init__(self, profile: str, name: str) -> None:
        self.key = f"{profile}/{name}"
        self.path = data_dir() / "tokens" / f"{profile}.{name}"

    def load(self) -> str:
        ring = _keyring()
        if ring is not None:
            return str(ring.get_password(KEYRING_SERVICE, self.key) or "")  # type: ignore[attr-defined]
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def save(self, secret: str) -> None:
        ring = _keyring()
        if ring is not None:
            ring.set_password(KEYRING_SERVICE, self.key, secret)  # type: ignore[attr-defined]
        else:
            _write_private(self.path, secret + "\n")

    def forget(self) -> None:
        ring = _keyring()
        if ring is not None:
            with contextlib.suppress(Exception):
                ring.delete_password(KEYRING_SERVICE, self.key)  # type: ignore[attr-defined]
        self.path.unlink(missing_ok=True)
