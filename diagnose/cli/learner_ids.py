"""The learners a remedy is asked to write to: LearnerIds given as arguments, in a file one a
line, or as the learners a `diagnose scan --csv` file lists."""

from __future__ import annotations

from pathlib import Path

from diagnose.errors import UsageError


def learner_ids_named(ids: list[str], from_file: Path | None) -> list[int]:
    """The LearnerIds named, each once, in the order given; a word that is not one is a
    one-line error naming where it was read."""
    from diagnose.refs import parse_learner_ref

    words: list[tuple[str, str]] = [(word, "argument") for word in ids]
    if from_file is not None:
        words += file_words(from_file)
    found: list[int] = []
    for word, where in words:
        try:
            ref = parse_learner_ref(word)
        except UsageError as exc:
            raise UsageError(f"{where}: {exc}") from None
        if ref.kind != "id":
            raise UsageError(f"{where}: {word!r} is not a LearnerId (resync takes LearnerIds)")
        if ref.learner_id not in found:
            found.append(ref.learner_id)
    if not found:
        raise UsageError("name at least one LearnerId, or --from-file with one a line")
    return found


def file_words(path: Path) -> list[tuple[str, str]]:
    """A file's LearnerIds, each with where it was read: one a line (`#` starts a comment), or
    the learners a `diagnose scan --csv` file lists (its rows about invoices left out)."""
    import csv
    import io

    from diagnose.render.health import CSV_COLUMNS

    try:  # a file saved by Excel or Notepad may begin with a byte order mark
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    rows = csv.reader(io.StringIO(text))  # a quoted cell may hold a line break
    try:
        header = next(rows, [])
    except csv.Error:  # not a CSV file: a list of ids
        header = []
    if tuple(word.strip().casefold() for word in header) == CSV_COLUMNS:
        key, subject = CSV_COLUMNS.index("key"), CSV_COLUMNS.index("subject")
        try:
            found = [
                (row[key].strip(), f"{path} line {rows.line_num}")
                for row in rows
                if len(row) > key and row[subject].strip() == "learner"
            ]
        except csv.Error as exc:
            raise UsageError(f"{path} line {rows.line_num}: {exc}") from None
        if not found:
            raise UsageError(f"{path}: the scan's CSV names no learner, only other records")
        return found
    return [
        (line.split("#", 1)[0].strip(), f"{path} line {n}")
        for n, line in enumerate(text.splitlines(), 1)
        if line.split("#", 1)[0].strip()
    ]
