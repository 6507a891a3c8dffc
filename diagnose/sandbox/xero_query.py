"""The sandbox's reading of Xero's `where` and `order` query parameters, for the filters
clients actually send: `Field=="text"`, `Field!="text"`, `Field==true`, `Field.Contains("x")`,
`.StartsWith`, `.EndsWith`, joined by `AND` / `&&` or `OR` / `||` (no brackets), on top-level
fields or one level down (`Contact.ContactNumber`); field names are case-insensitive as at Xero.
`order` is `Field [ASC|DESC]`, comma-separated. Anything else is Xero's QueryParseException.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Record = dict[str, Any]
Test = Callable[[Record], bool]

CONDITION = re.compile(
    r"""\s*(?P<field>[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z][A-Za-z0-9]*)?)\s*
    (?:
        (?P<op>==|!=)\s*(?:"(?P<text>[^"]*)"|(?P<word>true|false|null|-?\d+(?:\.\d+)?))
      | \.(?P<method>Contains|StartsWith|EndsWith)\(\s*"(?P<arg>[^"]*)"\s*\)
    )\s*""",
    re.VERBOSE | re.IGNORECASE,
)
JOINERS = re.compile(r"\s+(AND|OR)\s+|\s*(&&|\|\|)\s*", re.IGNORECASE)


class QueryError(ValueError):
    """Not a query the sandbox (or Xero) can parse."""


def _value(record: Record, path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        key = next((k for k in value if k.casefold() == part.casefold()), None)
        value = value.get(key) if key is not None else None
    return value


def _condition(text: str) -> Test:
    match = CONDITION.fullmatch(text)
    if match is None:
        raise QueryError(text)
    field = match["field"]
    if match["method"]:
        method, arg = match["method"].casefold(), match["arg"].casefold()

        def call(record: Record) -> bool:
            value = str(_value(record, field) or "").casefold()
            if method == "contains":
                return arg in value
            return value.startswith(arg) if method == "startswith" else value.endswith(arg)

        return call
    wanted: Any = match["text"]
    if wanted is None:
        word = match["word"].casefold()
        wanted = {"true": True, "false": False, "null": None}.get(word, word)
    equal = match["op"] == "=="

    def compare(record: Record) -> bool:
        value = _value(record, field)
        if isinstance(wanted, str) and not isinstance(value, str) and value is not None:
            value = str(value).casefold() if isinstance(value, bool) else str(value)
        same = value == wanted if not isinstance(wanted, str) else str(value or "") == wanted
        return same if equal else not same

    return compare


def where(expression: str) -> Test:
    """A test for records from a `where` expression; QueryError when it cannot be read."""
    parts = JOINERS.split(expression)
    conditions = parts[0::3]
    joiners = [(a or b or "").casefold() for a, b in zip(parts[1::3], parts[2::3], strict=True)]
    tests = [_condition(c) for c in conditions]
    if not tests:
        raise QueryError(expression)

    def test(record: Record) -> bool:
        result = tests[0](record)
        for joiner, following in zip(joiners, tests[1:], strict=True):
            if joiner in ("and", "&&"):
                result = result and following(record)
            else:
                result = result or following(record)
        return result

    return test


def order(
    rows: list[Record], expression: str, view: Callable[[Record], Record] = lambda r: r
) -> list[Record]:
    """`Name ASC, UpdatedDateUTC DESC`: a stable sort, the last key first, read on each
    record's `view`."""
    keys = []
    for part in expression.split(","):
        match = re.fullmatch(r"\s*([A-Za-z][A-Za-z0-9.]*)(?:\s+(ASC|DESC))?\s*", part, re.I)
        if match is None:
            raise QueryError(expression)
        keys.append((match[1], (match[2] or "ASC").upper() == "DESC"))
    for field, descending in reversed(keys):
        rows = sorted(
            rows,
            key=lambda r, f=field: (  # type: ignore[misc]
                _value(view(r), f) is None,
                str(_value(view(r), f) or "").casefold(),
            ),
            reverse=descending,
        )
    return rows
