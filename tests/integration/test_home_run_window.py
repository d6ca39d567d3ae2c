"""Home's "agent runs, last 30 days" and Run metrics' default range count the same runs: both
are the last 30 whole days, today included (a rolling 30-day (720 h) window used to differ). These
tenants read times in UTC; test_metrics_time_zone.py covers other zones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.enums import AgentName, Role, RunStatus, RunTrigger
from domain.models import AgentRun
from services import home
from services.metrics import dashboard, filters
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork

Pair = tuple[TenantWithUsers, TenantWithUsers]


def _runs(tenant_id: int, moments: list[datetime]) -> None:
    with UnitOfWork(None) as uow:
        for n, moment in enumerate(moments):
            uow.session.add(
                AgentRun(
                    tenant_id=tenant_id, agent=AgentName.SDR, trigger=RunTrigger.MANUAL,
                    subject_type="lead", subject_id=1, idempotency_key=f"w{n}",
                    status=RunStatus.SUCCEEDED, attempts=1, created_at=moment,
                )
            )  # fmt: skip
        uow.commit()


def test_home_and_run_metrics_agree_on_the_last_30_days(two_tenants: Pair) -> None:
    north, south = two_tenants
    now = datetime.now(UTC)
    start, end = filters.calendar_days(30, now=now)
    assert (end - start).days == 30 and start.hour == 0 and start <= now < end
    inside = [start, start + timedelta(minutes=1), now - timedelta(minutes=5)]
    outside = [start - timedelta(seconds=1), start - timedelta(hours=20)]
    # outside[0] is in a rolling 720 h window (the old Home count), not in the 30 days.
    _runs(north.tenant.id, inside + outside)
    _runs(south.tenant.id, inside)

    overview = home.get_overview(actor=north.actor(Role.VIEWER))
    on_home = sum(c.count for c in overview.runs_last_30_days)
    board = dashboard.get_dashboard(
        actor=north.actor(Role.ADMIN), filters=filters.build_filter(start=start, end=end)
    )
    assert on_home == board.summary.total == len(inside)
    assert overview.runs_since == start
