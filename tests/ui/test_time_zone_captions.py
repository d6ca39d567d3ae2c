"""Home and Run metrics name the tenant's time zone and count the same last 30 local days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import Role
from services.metrics import filters
from services.tenants import TenantWithUsers
from tests.integration.zone_support import place, set_zone

Pair = tuple[TenantWithUsers, TenantWithUsers]
ZONE = "Pacific/Auckland"


@pytest.fixture
def runs_around_local_midnight(two_tenants: Pair) -> TenantWithUsers:
    """Three runs inside the last 30 Auckland days, two just before their first midnight (both
    inside the last 30 UTC days)."""
    north, _ = two_tenants
    set_zone(north.tenant.id, ZONE)
    start, _ = filters.calendar_days(30, tz=ZONE)
    day_before = start.astimezone(ZoneInfo(ZONE)) - timedelta(minutes=30)  # 23:30 local
    now = datetime.now(UTC)
    place(north, [start, start + timedelta(hours=1), now - timedelta(minutes=1)])
    place(north, [start - timedelta(seconds=1), day_before], tag="out")
    return north


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_home_and_run_metrics_name_the_zone_and_show_the_same_run_count(
    app: AppTest, runs_around_local_midnight: TenantWithUsers
) -> None:
    north = runs_around_local_midnight
    user = north.users[Role.ADMIN].id
    app.run()  # signing in lands on Home
    app.selectbox[0].set_value(user)
    app.button[0].click().run()
    assert not app.exception, app.exception
    home_tiles = {m.label: m.value for m in app.metric}
    assert home_tiles["Succeeded"] == "3"
    captions = [c.value for c in app.caption]
    assert any(f"30 days in {ZONE}" in c for c in captions), captions

    app.switch_page("pages/metrics.py").run()
    assert not app.exception, app.exception
    assert app.date_input(key="metrics_range").label == f"Date range (days in {ZONE})"
    assert {m.label: m.value for m in app.metric}["Runs"] == "3"
    captions = [c.value for c in app.caption]
    assert any(f"days in {ZONE} · by day" in c for c in captions), captions
    assert any("as of" in c and f"days in {ZONE}" in c for c in captions), captions
