"""Where diagnose keeps its own files: the user data folder (platformdirs), or
`$DIAGNOSE_DATA_DIR` when set (tests and CI point it at a temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "DIAGNOSE_DATA_DIR"


def data_dir() -> Path:
    configured = os.environ.get(DATA_ENV)
    if configured:
        return Path(configured)
    from platformdirs import user_data_dir

    return Path(user_data_dir("diagnose", appauthor=False))


def cache_dir() -> Path:
    """The user cache folder (`$DIAGNOSE_CACHE_DIR` when set): what can be fetched again."""
    configured = os.environ.get("DIAGNOSE_CACHE_DIR")
    if configured:
        return Path(configured)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("diagnose", appauthor=False))


def journal_dir() -> Path:
    return data_dir() / "journal"


def audit_log() -> Path:
    return data_dir() / "audit.jsonl"


def sandbox_dir() -> Path:
    return data_dir() / "sandbox"


def write_atomically(path: Path, text: str) -> None:
    """Write next to the final name, flush to disk, then rename into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)
