"""Readiness checks and operational gauges for /readyz and /metrics (system-level, no tenant)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func, select, text

from domain.base import utcnow
from domain.enums import ReviewStatus, RunStatus
from domain.models import AgentRun, ReviewItem
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


def readiness() -> Readiness:
    """Each subsystem's state; ready unless the database is unreachable or not migrated."""
    checks = {"database": _database()}
    if checks["database"].status == "ok":
        checks["worker"] = _worker()
    checks["model"] = _model()
    checks["outbox"] = Check(status="skipped", detail="no outbox in this version")
    return Readiness(ready=all(c.status != "failing" for c in checks.values()), checks=checks)


class Gauges(BaseModel):
    reviews_by_status: dict[str, int]
    oldest_pending_age_s: float
    runs_by_status: dict[str, int]
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
        breaker_open=_model().status == "degraded",
    )
