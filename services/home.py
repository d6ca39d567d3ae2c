"""The home page's overview: how much work is where, for the actor's tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.base import utcnow
from domain.enums import InvestigationStatus, ReviewStatus, RunStatus
from domain.models import AgentRun, Investigation, ReviewItem, Tenant
from services import clock
from services.actor import Actor
from services.metrics import filters
from services.permissions import Action, require
from services.uow import UnitOfWork


class StatusCount(BaseModel):
    status: str
    count: int


class HomeOverview(BaseModel):
    review_items: list[StatusCount]
    overdue_reviews: int
    runs_last_30_days: list[StatusCount]
    runs_since: datetime | None = None  # the window's start: local midnight, as Run metrics
    time_zone: str = "UTC"  # the tenant's zone, whose days the window counts
    investigations: list[StatusCount]


def _in_order(counts: dict[str, int], order: list[str]) -> list[StatusCount]:
    return [StatusCount(status=s, count=counts.get(s, 0)) for s in order]


def _counts_by(session: Session, column: Any, *where: Any) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).where(*where).group_by(column)).all()
    return {status.value: count for status, count in rows}


def get_overview(*, actor: Actor, now: datetime | None = None) -> HomeOverview:
    """Per-status counts of review items, recent runs (last 30 local days) and investigations."""
    require(actor, Action.VIEW_HOME)
    now = now or utcnow()
    with UnitOfWork(actor, readonly=True) as uow:
        s = uow.session
        zone = clock.zone_name(s.get(Tenant, actor.tenant_id))
        reviews = _counts_by(s, ReviewItem.status)
        overdue = s.scalar(
            select(func.count())
            .select_from(ReviewItem)
            .where(ReviewItem.status == ReviewStatus.PENDING, ReviewItem.due_at < now)
        )
        start, end = filters.calendar_days(30, now=now, tz=zone)
        runs = _counts_by(
            s, AgentRun.status, AgentRun.created_at >= start, AgentRun.created_at < end
        )
        investigations = _counts_by(s, Investigation.status)
    return HomeOverview(
        review_items=_in_order(reviews, list(ReviewStatus)),
        overdue_reviews=int(overdue or 0),
        runs_last_30_days=_in_order(runs, list(RunStatus)),
        runs_since=start,
        time_zone=zone,
        investigations=_in_order(investigations, list(InvestigationStatus)),
    )
