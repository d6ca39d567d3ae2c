"""Queue health: where work is piling up right now, and how fast reviewers clear it."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, func, literal_column, select
from sqlalchemy.orm import Session

from domain.base import utcnow
from domain.enums import ReviewKind, ReviewStatus
from domain.models import ReviewItem
from services.actor import Actor
from services.metrics.filters import MetricsFilter, bucket_key, for_tenant, parse_bucket, tune
from services.metrics.reviews import review_matches
from services.permissions import Action, require
from services.uow import UnitOfWork

# Upper bound of each age band of pending items; the last band is open-ended.
AGE_BANDS: tuple[tuple[str, timedelta | None], ...] = (
    ("< 1 h", timedelta(hours=1)),
    ("1-4 h", timedelta(hours=4)),
    ("4-24 h", timedelta(hours=24)),
    ("1-3 d", timedelta(days=3)),
    ("> 3 d", None),
)
DECIDED = (
    ReviewStatus.APPROVED,
    ReviewStatus.EXECUTED,
    ReviewStatus.FAILED,
    ReviewStatus.REJECTED,
)


class ThroughputDay(BaseModel):
    day: datetime
    decisions: int
    reviewers: int


class QueueHealth(BaseModel):
    as_of: datetime
    pending: int
    pending_by_kind: dict[ReviewKind, int]
    age_bands: dict[str, int]
    overdue: int
    oldest_pending_at: datetime | None
    throughput: list[ThroughputDay]


def health(session: Session, tenant_id: int, f: MetricsFilter, now: datetime) -> QueueHealth:
    # The queue as it is now (no date range), narrowed by the agent/model/prompt/run filters.
    matches = review_matches(tenant_id, f)
    pending = (*matches, ReviewItem.status == ReviewStatus.PENDING)
    # One count per kind seeks the (tenant, kind, status) index instead of scanning the queue.
    by_kind = {
        kind: int(
            session.scalar(
                select(func.count())
                .select_from(ReviewItem)
                .where(*pending, ReviewItem.kind == kind)
            )
            or 0
        )
        for kind in ReviewKind
    }
    whens: list[tuple[ColumnElement[bool], ColumnElement[str]]] = [
        (ReviewItem.created_at > now - limit, literal_column(str(i)))
        for i, (_, limit) in enumerate(AGE_BANDS)
        if limit is not None
    ]
    band = case(*whens, else_=literal_column(str(len(AGE_BANDS) - 1))).label("band")
    ages = dict.fromkeys((name for name, _ in AGE_BANDS), 0)
    for index, n in session.execute(select(band, func.count()).where(*pending).group_by("band")):
        ages[AGE_BANDS[int(index)][0]] = int(n)
    # Two index-only queries (status+due_at and status+created_at indexes), not one table scan.
    overdue = session.scalar(
        select(func.count()).select_from(ReviewItem).where(*pending, ReviewItem.due_at < now)
    )
    oldest = session.scalar(select(func.min(ReviewItem.created_at)).where(*pending))
    day = bucket_key(session, ReviewItem.decided_at, f, "day").label("day")
    throughput = [
        ThroughputDay(day=parse_bucket(d, f, "day"), decisions=int(n), reviewers=int(r))
        for d, n, r in session.execute(
            select(day, func.count(), func.count(ReviewItem.decided_by_id.distinct()))
            .where(
                *matches,
                ReviewItem.status.in_(DECIDED),
                ReviewItem.decided_at >= f.start,
                ReviewItem.decided_at < f.end,
            )
            .group_by(day)
            .order_by(day)
        )
    ]
    return QueueHealth(
        as_of=now,
        pending=sum(by_kind.values()),
        pending_by_kind=by_kind,
        age_bands=ages,
        overdue=int(overdue or 0),
        oldest_pending_at=oldest,
        throughput=throughput,
    )


def get_queue_health(
    *, actor: Actor, filters: MetricsFilter, now: datetime | None = None
) -> QueueHealth:
    """Pending items by kind and age, overdue count, and decisions per day in the range."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        f = for_tenant(uow.session, actor.tenant_id, filters)
        return health(uow.session, actor.tenant_id, f, now or utcnow())
