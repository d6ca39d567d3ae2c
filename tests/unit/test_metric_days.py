"""Local days and the UTC offsets a period passes through, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.metrics import days

BERLIN, SANTIAGO = ZoneInfo("Europe/Berlin"), ZoneInfo("America/Santiago")


def test_a_year_in_berlin_passes_through_two_offset_changes_at_01_00_utc() -> None:
    start, end = days.span(date(2026, 1, 1), date(2026, 12, 31), BERLIN)
    assert days.offsets(start, end, BERLIN) == [
        (datetime(2025, 12, 31, 23, tzinfo=UTC), 3600),
        (datetime(2026, 3, 29, 1, tzinfo=UTC), 7200),
        (datetime(2026, 10, 25, 1, tzinfo=UTC), 3600),
    ]
    assert not days.utc_like(start, end, BERLIN)


def test_days_last_23_or_25_hours_when_daylight_saving_time_starts_or_ends() -> None:
    def hours(day: date) -> float:
        start, end = days.span(day, day, BERLIN)
        return (end - start) / timedelta(hours=1)

    assert [hours(date(2026, 3, 29)), hours(date(2026, 3, 30)), hours(date(2026, 10, 25))] == [
        23,
        24,
        25,
    ]


def test_a_day_that_springs_forward_at_midnight_starts_when_its_first_hour_does() -> None:
    # Chile moves from -04 to -03 at 00:00 on 6 September 2026: the day starts at 01:00 local.
    start = days.midnight(date(2026, 9, 6), SANTIAGO)
    assert start == datetime(2026, 9, 6, 4, tzinfo=UTC)
    assert start.astimezone(SANTIAGO).hour == 1 and days.is_midnight(start, SANTIAGO)


def test_utc_and_a_zone_at_0_in_winter_are_utc_like() -> None:
    london = ZoneInfo("Europe/London")
    start, end = days.span(date(2026, 1, 1), date(2026, 2, 1), london)
    assert days.utc_like(start, end, london) and days.utc_like(start, end, ZoneInfo("UTC"))
    summer_start, summer_end = days.span(date(2026, 1, 1), date(2026, 6, 1), london)
    assert not days.utc_like(summer_start, summer_end, london)
