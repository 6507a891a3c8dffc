from datetime import UTC, date, datetime, timedelta

import pytest

from diagnose.msdate import parse_date, parse_datetime, to_ms_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/Date(1573755038314)/", datetime(2019, 11, 14, 18, 10, 38, 314000, tzinfo=UTC)),
        ("/Date(1503348544227+0000)/", datetime(2017, 8, 21, 20, 49, 4, 227000, tzinfo=UTC)),
        ("\\/Date(1551399323399)\\/", datetime(2019, 3, 1, 0, 15, 23, 399000, tzinfo=UTC)),
        ("2019-12-07T18:46:19.5165400", datetime(2019, 12, 7, 18, 46, 19, 516540, tzinfo=UTC)),
        ("2026-11-20T03:10:00Z", datetime(2026, 11, 20, 3, 10, tzinfo=UTC)),
    ],
)
def test_instants_from_both_apis(value: str, expected: datetime) -> None:
    assert parse_datetime(value) == expected


def test_an_offset_keeps_the_instant_and_shows_the_zone() -> None:
    parsed = parse_datetime("/Date(1419937200000+1300)/")
    assert parsed == datetime(2014, 12, 30, 11, 0, tzinfo=UTC)
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=13)


def test_date_only_fields_are_the_utc_calendar_date() -> None:
    assert parse_date("/Date(1539993600000+0000)/") == date(2018, 10, 20)
    assert parse_date("/Date(1546128000000+0000)/") == date(2018, 12, 30)


@pytest.mark.parametrize("value", [None, "", "soon", "/Date()/", "/Date(abc)/", 17, "/Date(1e9)/"])
def test_anything_else_is_no_date(value: object) -> None:
    assert parse_datetime(value) is None


def test_round_trip_through_the_wire_form() -> None:
    moment = datetime(2026, 11, 22, 9, 15, tzinfo=UTC)
    assert parse_datetime(to_ms_date(moment)) == moment
