"""Event Alerts: Wisenet has no API for them, only the export of LRM › Reports › Event Alerts ›
Xero. This reads such an export (CSV in UTF-8, UTF-8 with a BOM or Windows-1252, or XLSX) into
the rows the checks use, keeps the latest import of each profile, and writes the sandbox's own
alerts in the same layout so the whole path can be tried.

Columns are found by tolerant header names (`Created On`, `Date`, `Alert Type`, `Event`,
`Alert Details`, `Message`, `Related Record`, `Learner`, `Acknowledged`, `Status`, …); other
columns are ignored with a note. A file without a column for the alert's text and one for its
record cannot be used and is refused in one line.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from diagnose.errors import UsageError
from diagnose.paths import data_dir, write_atomically, write_output

MAX_BYTES = 50 * 1024 * 1024  # an export far larger than any tenant's alerts is not one
# the layout `sandbox export-alerts` writes: the report's own column titles
COLUMNS = ("Created On", "Alert Type", "Alert Details", "Related Record", "Acknowledged")
FIELDS = {  # our field → the header names (folded to letters and digits) that mean it
    "CreatedOn": ("createdon", "created", "date", "datetime", "time", "dateandtime", "when"),
    "AlertType": ("alerttype", "type", "event", "eventtype", "category"),
    "AlertDetails": (
        "alertdetails",
        "details",
        "message",
        "description",
        "error",
        "errormessage",
    ),
    "RelatedRecord": (
        "relatedrecord",
        "relatedrecords",
        "record",
        "learner",
        "learnername",
        "refinternal",
        "learnerid",
        "student",
        "name",
    ),
    "Acknowledged": ("acknowledged", "status", "ack", "acknowledge"),
}
YES = {"yes", "y", "true", "1", "acknowledged", "closed", "resolved", "done"}
NO = {"", "no", "n", "false", "0", "open", "new", "unacknowledged", "active", "pending"}


@dataclass
class AlertsExport:
    """The rows of an export in the shape of a tenant's `event_alerts`, and what was noticed."""

    rows: list[dict[str, Any]]
    source: str
    notes: list[str] = field(default_factory=list)
    imported: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def _fold(header: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(header or "").casefold())


def _table(path: Path) -> list[list[str]]:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise UsageError(f"Event Alerts export {path} does not exist") from None
    except OSError as exc:
        raise UsageError(f"cannot read Event Alerts export {path}: {exc}") from None
    if size > MAX_BYTES:
        raise UsageError(f"{path} is {size // 1_000_000} MB: not an Event Alerts export")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx(path)
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        return _xlsx(path)  # a workbook saved with another name
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    lines = text.splitlines()[:6]  # a title line may stand above the header: count them all
    delimiter = max(",;\t", key=lambda d: sum(line.count(d) for line in lines))
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    return [row for row in rows if any(c.strip() for c in row)]


def _xlsx(path: Path) -> list[list[str]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UsageError(f"{path} is not a readable Excel workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        rows = [
            ["" if cell is None else _cell(cell) for cell in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        book.close()
    return [row for row in rows if any(c.strip() for c in row)]


def _cell(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _flag(value: str) -> bool | None:
    folded = value.strip().casefold()
    if folded in YES:
        return True
    if folded in NO:
        return False
    return None


def read_export(path: Path) -> AlertsExport:
    """The alerts in an export file; a file that holds none of the needed columns is refused."""
    table = _table(path)
    if not table:
        raise UsageError(f"{path} is empty: export LRM › Reports › Event Alerts › Xero again")
    # the header is the first row with a column we know (a title line may come first)
    at = next((i for i, row in enumerate(table[:10]) if _map(row)), None)
    if at is None:
        raise UsageError(
            f"{path} has no usable column: expected headers such as "
            f"{', '.join(repr(c) for c in COLUMNS)}"
        )
    header = table[at]
    mapped = _map(header)
    missing = [name for name in ("AlertDetails", "RelatedRecord") if name not in mapped.values()]
    if missing:
        wanted = {"AlertDetails": "the alert's text (Alert Details)", "RelatedRecord": "its record"}
        raise UsageError(
            f"{path} has no column for {' or '.join(wanted[m] for m in missing)}: "
            f"found {', '.join(repr(h) for h in header if str(h).strip())}"
        )
    notes = []
    ignored = [str(h) for i, h in enumerate(header) if i not in mapped and str(h).strip()]
    if ignored:
        notes.append(f"ignored column(s) {', '.join(repr(h) for h in ignored)}")
    rows: list[dict[str, Any]] = []
    unclear = 0
    for line in table[at + 1 :]:
        record: dict[str, Any] = {"AlertType": "", "CreatedOn": None, "Acknowledged": False}
        for index, name in mapped.items():
            value = line[index].strip() if index < len(line) else ""
            if name == "Acknowledged":
                flag = _flag(value)
                unclear += flag is None
                record[name] = bool(flag)
            else:
                record[name] = value or (None if name == "CreatedOn" else "")
        if record.get("AlertDetails") or record.get("RelatedRecord"):
            rows.append(record)
    if unclear:
        notes.append(f"{unclear} row(s) with an acknowledged value not understood: read as open")
    return AlertsExport(rows, str(path), notes)


def _map(header: Sequence[object]) -> dict[int, str]:
    """Column index → our field, each field taken by its best-named column once."""
    found: dict[int, str] = {}
    folded = [_fold(h) for h in header]
    for name, names in FIELDS.items():
        for candidate in names:  # in order of preference
            index = next(
                (i for i, f in enumerate(folded) if f == candidate and i not in found), None
            )
            if index is not None:
                found[index] = name
                break
    return found


# -- the kept import of each profile --------------------------------------------------------------


def _kept_path(profile: str) -> Path:
    return data_dir() / "alerts" / f"{profile}.json"


def keep(profile: str, export: AlertsExport) -> Path:
    """Keep `export` as the profile's latest; every later command of the profile uses it."""
    path = _kept_path(profile)
    write_atomically(path, json.dumps(asdict(export)) + "\n")
    return path


def kept(profile: str) -> AlertsExport | None:
    try:
        document = json.loads(_kept_path(profile).read_text(encoding="utf-8"))
        return AlertsExport(**document)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, RecursionError) as exc:
        raise UsageError(
            f"the kept Event Alerts of profile {profile!r} cannot be read ({exc}): import the "
            "export again with 'diagnose alerts import FILE'"
        ) from None


def kept_profiles() -> list[str]:
    folder = data_dir() / "alerts"
    return sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []


# -- writing the sandbox's alerts in the export's layout ------------------------------------------


def export_rows(alerts: Iterable[dict[str, Any]]) -> list[list[str]]:
    rows = [list(COLUMNS)]
    for a in alerts:
        rows.append(
            [
                str(a.get("CreatedOn") or ""),
                str(a.get("AlertType") or ""),
                str(a.get("AlertDetails") or ""),
                str(a.get("RelatedRecord") or ""),
                "Yes" if a.get("Acknowledged") else "No",
            ]
        )
    return rows


def write_export(path: Path, alerts: Iterable[dict[str, Any]]) -> None:
    rows = export_rows(alerts)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "Event Alerts"
        for row in rows:
            sheet.append(row)
        built = io.BytesIO()
        book.save(built)
        write_output(path, built.getvalue())
        return
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    write_output(path, buffer.getvalue())
