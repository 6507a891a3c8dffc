"""Dates as the two APIs send them.

Xero writes Microsoft JSON dates: milliseconds since the epoch, optionally followed by an
offset (`/Date(1539993600000+0000)/`; on the wire the slashes are escaped as `\\/`, which JSON
decoding undoes). The milliseconds are the instant; the offset only says which zone the value
was shown in. Wisenet, and Xero's helper fields, use ISO 8601.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta, timezone

_MS_DATE = re.compile(r"^\\?/Date\((-?\d{1,15})(?:([+-])(\d{2})(\d{2})?)?\)\\?/$")


def parse_datetime(value: object) -> datetime | None:
    """An aware datetime for an MS-JSON or ISO 8601 value; None for anything else."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    return _remembered(text) if len(text) <= 40 else _parsed(text)  # no megabyte kept


def _parsed(text: str) -> datetime | None:
    match = _MS_DATE.match(text)
    if match:
        millis, sign, hours, minutes = match.groups()
        try:
            instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(millis))
        except OverflowError:
            return None
        if sign:
            offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
            return instant.astimezone(timezone(-offset if sign == "-" else offset))
        return instant
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# A scan reads the same dates many times: every invoice of a day has that day's `Date`, and a
# learner's invoices are read again for each of its invoices' checks.
_remembered = functools.lru_cache(maxsize=4096)(_parsed)


def parse_date(value: object) -> date | None:
    """The calendar date of a date-only field (Xero sends midnight UTC of that date)."""
    parsed = parse_datetime(value)
    return parsed.astimezone(UTC).date() if parsed else None


def to_ms_date(moment: datetime) -> str:
    """The MS-JSON form Xero sends for a timestamp (before JSON escaping)."""
    millis = int(moment.astimezone(UTC).timestamp() * 1000)
    return f"/Date({millis}+0000)/"
