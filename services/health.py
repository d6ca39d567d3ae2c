"""Readiness checks and operational gauges for /readyz and /metrics (system-level, no tenant)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func, select, text

from domain.base import utcnow
from domain.enums import OutboxStatus, ReviewStatus, RunStatus
from domain.models import AgentRun, OutboxMessage, ReviewItem
from services import db, migrate
from services.config import get_settings
from services.llm import breaker
from services.uow import UnitOfWork

CheckStatus = Literal["ok", "degraded", "failing", "skipped"]


class Check(BaseModel):
    status: CheckStatus
    detail: str = ""


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, Check]


def _database() -> Check:
    try:
        with db.current_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        url = db.current_engine().url.render_as_string(hide_password=False)
        current, head = migrate.current(url), migrate.head()
    except Exception as exc:  # any failure to reach the database means "not ready"
        return Check(status="failing", detail=f"database unreachable: {type(exc).__name__}")
    if current != head:
        return Check(status="failing", detail=f"migrations at {current}, head is {head}")
    return Check(status="ok", detail=f"migrations at head ({head})")


def _worker() -> Check:
    settings = get_settings()
    stale = utcnow() - timedelta(seconds=settings.worker_lease_s * 2)
    with UnitOfWork(None, readonly=True) as uow:
        running = uow.session.scalar(
            select(func.count()).where(AgentRun.status == RunStatus.RUNNING)
        )
        lost = uow.session.scalar(
            select(func.count()).where(
                AgentRun.status == RunStatus.RUNNING, AgentRun.heartbeat_at < stale
            )
        )
    if lost:
        return Check(status="degraded", detail=f"{lost} of {running} running runs lost heartbeat")
    return Check(status="ok", detail=f"{running} runs running, heartbeats fresh")


def _model() -> Check:
    s = get_settings()
    b = breaker.for_url(
        s.llm_base_url, failures=s.llm_breaker_failures, cooldown_s=s.llm_breaker_cooldown_s
    )
    if b.is_open:
        return Check(status="degraded", detail=f"breaker open for {s.llm_base_url}")
    return Check(status="ok", detail=f"breaker closed for {s.llm_base_url}")


OUTBOX_WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING)
OUTBOX_LATE = timedelta(minutes=15)


def _outbox_depth() -> dict[str, int]:
    with UnitOfWork(None, readonly=True) as uow:
        counts = dict(
            uow.session.execute(
                select(OutboxMessage.status, func.count())
                .where(OutboxMessage.status.in_([*OUTBOX_WAITING, OutboxStatus.DEAD]))
                .group_by(OutboxMessage.status)
            ).all()
        )
    return {s.value: int(counts.get(s, 0)) for s in (*OUTBOX_WAITING, OutboxStatus.DEAD)}


def _outbox() -> Check:
    """Degraded when notifications wait longer than OUTBOX_LATE (the workers are not sending)."""
    late_before = utcnow() - OUTBOX_LATE
    with UnitOfWork(None, readonly=True) as uow:
        waiting = uow.session.scalar(
            select(func.count()).where(OutboxMessage.status.in_(OUTBOX_WAITING))
        )
        late = uow.session.scalar(
            select(func.count()).where(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.next_attempt_at < late_before,
            )
        )
    if late:
        return Check(
            status="degraded",
            detail=f"{late} of {waiting} notifications overdue by more than 15 min",
        )
    return Check(status="ok", detail=f"{waiting} notifications waiting")


def readiness() -> Readiness:
    """Each subsystem's state; ready unless the database is unreachable or not migrated."""
    checks = {"database": _database()}
    if checks["database"].status == "ok":
        checks["worker"] = _worker()
        checks["outbox"] = _outbox()
    else:
        checks["outbox"] = Check(status="skipped", detail="needs the database")
    checks["model"] = _model()
    return Readiness(ready=all(c.status != "failing" for c in checks.values()), checks=checks)


class Gauges(BaseModel):
    reviews_by_status: dict[str, int]
    oldest_pending_age_s: float
    runs_by_status: dict[str, int]
    outbox_by_status: dict[str, int]
    breaker_open: bool


def gauges() -> Gauges:
    """Counts for the Prometheus exposition, across tenants."""
    now = utcnow()
    with UnitOfWork(None, readonly=True) as uow:
        reviews = dict(
            uow.session.execute(
                select(ReviewItem.status, func.count()).group_by(ReviewItem.status)
            ).all()
        )
        oldest = uow.session.scalar(
            select(func.min(ReviewItem.created_at)).where(ReviewItem.status == ReviewStatus.PENDING)
        )
        runs = dict(
            uow.session.execute(
                select(AgentRun.status, func.count()).group_by(AgentRun.status)
            ).all()
        )
    return Gauges(
        reviews_by_status={s.value: int(reviews.get(s, 0)) for s in ReviewStatus},
        oldest_pending_age_s=(now - oldest).total_seconds() if oldest else 0.0,
        runs_by_status={s.value: int(runs.get(s, 0)) for s in RunStatus},
        outbox_by_status=_outbox_depth(),
        breaker_open=_model().status == "degraded",
    )
