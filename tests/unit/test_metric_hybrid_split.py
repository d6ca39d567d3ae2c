"""Where hybrid totals split a period: whole UTC days inside it, and the partial edges."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.metrics import hybrid
from services.metrics.filters import build_filter


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _spans(start: datetime, end: datetime) -> Any:
    parts = hybrid.split(build_filter(start=start, end=end, tz="Europe/Berlin"))
    if parts is None:
        return None
    whole, edges = parts
    return (whole.start, whole.end), [(e.start, e.end) for e in edges]


def test_a_berlin_period_is_its_whole_utc_days_and_two_edges() -> None:
    start, end = _utc(2026, 1, 9, 23), _utc(2026, 1, 13, 23)
    assert _spans(start, end) == (
        (_utc(2026, 1, 10), _utc(2026, 1, 13)),
        [(start, _utc(2026, 1, 10)), (_utc(2026, 1, 13), end)],
    )


def test_a_period_of_whole_utc_days_has_no_edges() -> None:
    assert _spans(_utc(2026, 1, 10), _utc(2026, 1, 12)) == (
        (_utc(2026, 1, 10), _utc(2026, 1, 12)),
        [],
    )


def test_a_period_holding_no_whole_utc_day_is_not_split() -> None:
    assert _spans(_utc(2026, 1, 9, 23), _utc(2026, 1, 10, 23)) is None
    assert _spans(_utc(2026, 1, 10, 1), _utc(2026, 1, 10, 5)) is None
