"""Where diagnose keeps its own files: the user data folder (platformdirs), or
`$DIAGNOSE_DATA_DIR` when set (tests and CI point it at a temporary folder)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

DATA_ENV = "DIAGNOSE_DATA_DIR"


def data_dir() -> Path:
    configured = os.environ.get(DATA_ENV)
    if configured:
        folder = Path(configured)
    else:
        from platformdirs import user_data_dir

        folder = Path(user_data_dir("diagnose", appauthor=False))
    if folder.exists() and not folder.is_dir():  # one line, not an error from each file in it
        from diagnose.errors import UsageError

        raise UsageError(
            f"the data folder {folder} is a file, not a folder: move the file away"
            + (f" or point {DATA_ENV} at a folder" if configured else "")
        )
    return folder


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


def write_atomically(
    path: Path,
    content: str | bytes | Iterable[bytes],
    *,
    mode: int | None = None,
    durable: bool = True,
) -> None:
    """The one way diagnose writes a file: next to the final file (a symlink's target), flushed
    to disk unless it is not worth keeping across a power cut (`durable=False`), then renamed
    into place, so a reader sees the old file or the new one, never half of one. `mode` sets the
    new file's permissions exactly (0o600 for secrets); without it the user's umask decides, as
    for any file they write. A path that is not a regular file is refused (`output_file`);
    nothing partial is left behind. `content` may come in pieces (a large file is then never
    whole in memory)."""
    path = output_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    pieces = [content.encode("utf-8")] if isinstance(content, str) else content
    pieces = [pieces] if isinstance(pieces, bytes) else pieces
    try:
        chosen = 0o666 if mode is None else mode
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, chosen)
        with os.fdopen(descriptor, "wb") as handle:
            for piece in pieces:
                handle.write(piece)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(partial, mode)  # whatever the umask or an older partial file said
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)  # no partial file is left behind
        raise


def write_output(path: Path, content: str | bytes, what: str = "") -> None:
    """Write a file the user named, atomically; a disk that is full or read-only, or a folder
    that is missing, is one line naming the file and the cause (exit 2), with nothing left."""
    try:
        write_atomically(path, content)
    except OSError as exc:
        from diagnose.errors import UsageError

        named = f"{what} {path}" if what else str(path)
        raise UsageError(f"cannot write {named}: {exc.strerror or exc}") from None
