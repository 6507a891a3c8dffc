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


def output_file(path: Path) -> Path:
    """Where a file the user named is really written: a symlink is followed to its file, and a
    path that is not a regular file (a device, a folder, a pipe) is refused with one line, so it
    is never replaced by a rename."""
    real = path.resolve() if path.is_symlink() else path
    if real.exists() and not real.is_file():
        from diagnose.errors import UsageError

        raise UsageError(f"cannot write {path}: it is not a regular file (nothing was replaced)")
    if len(real.name.encode("utf-8", "surrogateescape")) > 240:  # and its ".partial" sibling
        from diagnose.errors import UsageError

        raise UsageError(f"cannot write {str(path)[:80]}…: the file name is too long")
    return real


def write_atomically(path: Path, text: str) -> None:
    """Write next to the final file (a symlink's target), flush to disk, then rename into
    place; a path that is not a regular file is refused (`output_file`)."""
    path = output_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)  # no partial file is left behind
        raise
