"""Run metrics and Home count the tenant's days: a run at 23:30 local counts on that local day
(not the next UTC day), days start at local midnight (23 or 25 hours long on a DST change), and
Home's "last 30 days" is the same window as Run metrics' default, in any zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.enums import Role
from services import home
from services.config import get_settings
from services.errors import InvalidInput
from services.metrics import dashboard, filters, queue, rollups
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.zone_support import per_day, place, set_zone

Pair = tuple[TenantWithUsers, TenantWithUsers]
D = date


def _at(zone: str, *parts: int, fold: int = 0) -> datetime:
    """A local wall-clock time in the zone (fold=1: the second pass of a repeated hour)."""
    return datetime(*parts, tzinfo=ZoneInfo(zone), fold=fold)  # type: ignore[misc]


@pytest.fixture
def rollups_forced(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every period large enough for the rollups (they are used wherever they may be)."""
    monkeypatch.setenv("REVO_METRICS_EXACT_MAX_ROWS", "0")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


LA, BERLIN, AUCKLAND = "America/Los_Angeles", "Europe/Berlin", "Pacific/Auckland"
# zone, first day, last day, local moments, expected runs per local day, hours of the range
CASES: dict[str, tuple[str, date, date, list[datetime], dict[date, int], int]] = {
    "around local midnight": (
        LA, D(2026, 11, 10), D(2026, 11, 11),
        [_at(LA, 2026, 11, 9, 23, 59), _at(LA, 2026, 11, 10, 0, 0), _at(LA, 2026, 11, 10, 23, 30),
         _at(LA, 2026, 11, 11, 0, 10), _at(LA, 2026, 11, 11, 23, 59, 59),
         _at(LA, 2026, 11, 12, 0, 0)],
        {D(2026, 11, 10): 2, D(2026, 11, 11): 2}, 48,
    ),
    "25-hour day (DST ends)": (
        LA, D(2026, 10, 31), D(2026, 11, 2),
        [_at(LA, 2026, 10, 31, 23, 30), _at(LA, 2026, 11, 1, 0, 30), _at(LA, 2026, 11, 1, 1, 30),
         _at(LA, 2026, 11, 1, 1, 30, fold=1), _at(LA, 2026, 11, 1, 23, 30),
         _at(LA, 2026, 11, 2, 0, 10)],
        {D(2026, 10, 31): 1, D(2026, 11, 1): 4, D(2026, 11, 2): 1}, 73,
    ),
    "23-hour day (DST starts)": (
        BERLIN, D(2026, 3, 28), D(2026, 3, 30),
        [_at(BERLIN, 2026, 3, 28, 23, 30), _at(BERLIN, 2026, 3, 29, 0, 30),
         _at(BERLIN, 2026, 3, 29, 3, 30), _at(BERLIN, 2026, 3, 29, 23, 30),
         _at(BERLIN, 2026, 3, 30, 0, 10)],
        {D(2026, 3, 28): 1, D(2026, 3, 29): 3, D(2026, 3, 30): 1}, 71,
    ),
    "ahead of UTC, 25-hour day": (
        AUCKLAND, D(2026, 4, 4), D(2026, 4, 6),
        [_at(AUCKLAND, 2026, 4, 4, 23, 30), _at(AUCKLAND, 2026, 4, 5, 0, 30),
         _at(AUCKLAND, 2026, 4, 5, 2, 30), _at(AUCKLAND, 2026, 4, 5, 2, 30, fold=1),
         _at(AUCKLAND, 2026, 4, 5, 23, 30), _at(AUCKLAND, 2026, 4, 6, 0, 10),
         _at(AUCKLAND, 2026, 4, 3, 23, 59)],
        {D(2026, 4, 4): 1, D(2026, 4, 5): 4, D(2026, 4, 6): 1}, 73,
    ),
}  # fmt: skip


def _figures(actor: Any, f: filters.MetricsFilter, zone: str) -> tuple[Any, ...]:
    board = dashboard.get_dashboard(actor=actor, filters=f)
    health = queue.get_queue_health(actor=actor, filters=f, now=f.end)
    runs = per_day([(b.bucket, b.runs) for b in board.runs_per_bucket], zone)
    calls = per_day([(b.bucket, b.calls) for b in board.latency], zone)
    decisions = per_day([(t.day, t.decisions) for t in health.throughput], zone)
    agents = sum(a.runs for a in board.agents)
    return board.summary.total, agents, runs, calls, decisions, board.filters.tz


@pytest.mark.parametrize("case", list(CASES))
def test_runs_calls_and_decisions_count_on_their_local_day(two_tenants: Pair, case: str) -> None:
    north, south = two_tenants
    zone, first, last, moments, expected, hours = CASES[case]
    set_zone(north.tenant.id, zone)
    place(north, moments)
    place(south, moments)  # another tenant in UTC: never counted here
    start, end = filters.day_range(first, last, tz=zone)
    assert end - start == timedelta(hours=hours)
    assert start == datetime.combine(first, datetime.min.time(), tzinfo=ZoneInfo(zone))
    actor = north.actor(Role.ADMIN)
    total = sum(expected.values())
    want = (total, total, expected, expected, expected, zone)

    assert _figures(actor, filters.build_filter(start=start, end=end, tz=zone), zone) == want
    # The zone is the tenant's, whatever the filter says.
    assert _figures(actor, filters.build_filter(start=start, end=end, tz="UTC"), zone) == want


@pytest.mark.usefixtures("rollups_forced")
@pytest.mark.parametrize("case", list(CASES))
def test_the_daily_rollups_never_change_a_local_days_figures(two_tenants: Pair, case: str) -> None:
    north, _ = two_tenants
    zone, first, last, moments, expected, _ = CASES[case]
    set_zone(north.tenant.id, zone)
    place(north, moments)
    start, end = filters.day_range(first, last, tz=zone)
    total = sum(expected.values())
    figures = _figures(north.actor(Role.ADMIN), filters.build_filter(start=start, end=end), zone)
    assert figures == (total, total, expected, expected, expected, zone)


@pytest.mark.usefixtures("rollups_forced")
def test_a_zone_at_utc_offset_0_reads_day_buckets_from_the_rollups_only_while_it_stays_there(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    london = "Europe/London"
    set_zone(north.tenant.id, london)
    # 00:30 BST on 11 June is 23:30 UTC on 10 June: the rollups file it under 10 June.
    summer = [_at(london, 2026, 6, 11, 0, 30), _at(london, 2026, 6, 11, 12)]
    winter = [_at(london, 2026, 1, 5, 0, 30), _at(london, 2026, 1, 6, 23, 30)]
    place(north, summer + winter)
    actor = north.actor(Role.ADMIN)

    # March to October: starts and ends at a UTC midnight, but spends the summer at +1.
    start, end = filters.day_range(D(2026, 3, 1), D(2026, 10, 31), tz=london)
    f = filters.build_filter(start=start, end=end, tz=london)
    assert not f.utc_days
    board = dashboard.get_dashboard(actor=actor, filters=f)
    assert board.summary.estimated and board.summary.total == 2  # totals from the rollups
    assert per_day([(b.bucket, b.runs) for b in board.runs_per_bucket], london) == {
        D(2026, 6, 11): 2
    }
    assert per_day([(b.bucket, b.calls) for b in board.latency], london) == {D(2026, 6, 11): 2}

    # January: UTC days, so the day buckets come from the rollups too, with the same answer.
    start, end = filters.day_range(D(2026, 1, 5), D(2026, 1, 6), tz=london)
    january = filters.build_filter(start=start, end=end, tz=london)
    with UnitOfWork(actor, readonly=True) as uow:
        assert january.utc_days and rollups.for_runs(uow.session, north.tenant.id, january)
    board = dashboard.get_dashboard(actor=actor, filters=january)
    assert per_day([(b.bucket, b.runs) for b in board.runs_per_bucket], london) == {
        D(2026, 1, 5): 1,
        D(2026, 1, 6): 1,
    }


@pytest.mark.parametrize(
    ("zone", "now"),
    [
        (LA, datetime(2026, 11, 20, 10, tzinfo=UTC)),  # 02:00 PST; 1 November has 25 hours
        (AUCKLAND, datetime(2026, 4, 20, 10, tzinfo=UTC)),  # 22:00 NZST; 5 April has 25 hours
        (BERLIN, datetime(2026, 4, 2, 23, 30, tzinfo=UTC)),  # 01:30 CEST on 3 April, next day
    ],
)
def test_home_and_run_metrics_agree_on_the_last_30_local_days(
    two_tenants: Pair, zone: str, now: datetime
) -> None:
    north, south = two_tenants
    set_zone(north.tenant.id, zone)
    start, end = filters.calendar_days(30, now=now, tz=zone)
    tz = ZoneInfo(zone)
    assert start.astimezone(tz).time() == end.astimezone(tz).time() == datetime.min.time()
    assert (end.astimezone(tz).date() - start.astimezone(tz).date()).days == 30
    assert start <= now < end and end - start != timedelta(days=30)  # a DST change inside
    day_before = start.astimezone(tz).date() - timedelta(days=1)
    inside = [start, start + timedelta(minutes=1), now - timedelta(minutes=5)]
    # 23:30 local on the day before is still inside the UTC days of the old count.
    outside = [start - timedelta(seconds=1), _at(zone, *day_before.timetuple()[:3], 23, 30)]
    place(north, inside + outside)
    place(south, inside, tag="s")

    overview = home.get_overview(actor=north.actor(Role.VIEWER), now=now)
    on_home = sum(c.count for c in overview.runs_last_30_days)
    board = dashboard.get_dashboard(
        actor=north.actor(Role.ADMIN), filters=filters.build_filter(start=start, end=end)
    )
    on_metrics = sum(b.runs for b in board.runs_per_bucket)
    assert on_home == board.summary.total == on_metrics == len(inside)
    assert overview.runs_since == start and overview.time_zone == zone


def test_the_previous_period_is_as_many_local_days_before() -> None:
    start, end = filters.day_range(D(2026, 3, 30), D(2026, 3, 30), tz=BERLIN)
    f = filters.build_filter(start=start, end=end, tz=BERLIN)
    before = f.previous()
    # 29 March has 23 hours: the previous period is that whole day, not 24 hours back.
    assert (before.start, before.end) == filters.day_range(
        D(2026, 3, 29), D(2026, 3, 29), tz=BERLIN
    )
    assert before.end - before.start == timedelta(hours=23)


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", "UTC\x00"])
def test_an_unknown_time_zone_is_refused_with_a_clear_message(name: str) -> None:
    start, end = filters.calendar_days(1, now=datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidInput, match="time zone"):
        filters.build_filter(start=start, end=end, tz=name)
    with pytest.raises(InvalidInput, match="time zone"):
        filters.day_range(D(2026, 1, 1), D(2026, 1, 2), tz=name)


def test_hour_buckets_are_utc_hours_given_in_the_tenants_zone(two_tenants: Pair) -> None:
    north, _ = two_tenants
    set_zone(north.tenant.id, LA)
    place(north, [_at(LA, 2026, 11, 1, 1, 30), _at(LA, 2026, 11, 1, 1, 30, fold=1)])
    start, end = filters.day_range(D(2026, 11, 1), D(2026, 11, 1), tz=LA)
    f = filters.build_filter(start=start, end=end, bucket="hour")
    board = dashboard.get_dashboard(actor=north.actor(Role.ADMIN), filters=f)
    # The repeated hour 01:00-02:00 is two buckets: PDT, then PST.
    assert [(b.bucket, b.bucket.utcoffset()) for b in board.runs_per_bucket] == [
        (_at(LA, 2026, 11, 1, 1), timedelta(hours=-7)),
        (_at(LA, 2026, 11, 1, 1, fold=1), timedelta(hours=-8)),
    ]
