"""Agent-run aggregates: runs per bucket by status, success rate, retries, dead runs, durations."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from domain.enums import RunStatus
from domain.models import AgentRun
from services.actor import Actor
from services.metrics import percentiles
from services.metrics.filters import MetricsFilter, bucket_key, parse_bucket, run_where
from services.permissions import Action, require
from services.uow import UnitOfWork

# Runs that have finished at least one attempt; success rate is succeeded / these.
FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.RETRYING, RunStatus.DEAD)
DURATION_FRACTIONS = (0.5, 0.95, 0.99)


class RunBucket(BaseModel):
    bucket: datetime
    status: RunStatus
    runs: int


class RunSummary(BaseModel):
    total: int
    by_status: dict[RunStatus, int]
    success_rate: float | None
    retried_runs: int
    retry_attempts: int
    dead: int
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    duration_p99_ms: float | None


class AgentRunStats(BaseModel):
    agent: str
    runs: int
    succeeded: int
    success_rate: float | None
    dead: int
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    duration_p99_ms: float | None


def runs_per_bucket(session: Session, tenant_id: int, f: MetricsFilter) -> list[RunBucket]:
    key = bucket_key(session, AgentRun.created_at, f.bucket).label("bucket")
    stmt = (
        select(key, AgentRun.status, func.count())
        .where(*run_where(tenant_id, f))
        .group_by(key, AgentRun.status)
        .order_by(key, AgentRun.status)
    )
    return [
        RunBucket(bucket=parse_bucket(b, f.bucket), status=s, runs=n)
        for b, s, n in session.execute(stmt)
    ]


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def summary(session: Session, tenant_id: int, f: MetricsFilter) -> RunSummary:
    where = run_where(tenant_id, f)
    extra = func.coalesce(func.sum(case((AgentRun.attempts > 1, AgentRun.attempts - 1))), 0)
    retried = func.count(case((AgentRun.attempts > 1, 1)))
    stmt = select(AgentRun.status, func.count(), retried, extra).where(*where)
    by_status: dict[RunStatus, int] = dict.fromkeys(RunStatus, 0)
    retried_runs = retry_attempts = 0
    for status, n, r, a in session.execute(stmt.group_by(AgentRun.status)):
        by_status[status] = int(n)
        retried_runs += int(r)
        retry_attempts += int(a)
    finished = sum(by_status[s] for s in FINISHED)
    p50, p95, p99 = percentiles.single(
        session,
        select(AgentRun.duration_ms.label("v")).where(*where),
        DURATION_FRACTIONS,
    )
    return RunSummary(
        total=sum(by_status.values()),
        by_status=by_status,
        success_rate=_rate(by_status[RunStatus.SUCCEEDED], finished),
        retried_runs=retried_runs,
        retry_attempts=retry_attempts,
        dead=by_status[RunStatus.DEAD],
        duration_p50_ms=p50,
        duration_p95_ms=p95,
        duration_p99_ms=p99,
    )


def per_agent(session: Session, tenant_id: int, f: MetricsFilter) -> list[AgentRunStats]:
    where = run_where(tenant_id, f)
    ok = func.count(case((AgentRun.status == RunStatus.SUCCEEDED, 1)))
    finished = func.count(case((AgentRun.status.in_(FINISHED), 1)))
    dead = func.count(case((AgentRun.status == RunStatus.DEAD, 1)))
    stmt = (
        select(AgentRun.agent, func.count(), ok, finished, dead)
        .where(*where)
        .group_by(AgentRun.agent)
        .order_by(AgentRun.agent)
    )
    durations = percentiles.grouped(
        session,
        select(AgentRun.agent.label("agent"), AgentRun.duration_ms.label("v")).where(*where),
        groups=1,
        fractions=DURATION_FRACTIONS,
    )
    out = []
    for agent, n, succeeded, done, dead_n in session.execute(stmt):
        p50, p95, p99 = durations.get((agent,), [None, None, None])
        out.append(
            AgentRunStats(
                agent=str(agent),
                runs=n,
                succeeded=succeeded,
                success_rate=_rate(succeeded, done),
                dead=dead_n,
                duration_p50_ms=p50,
                duration_p95_ms=p95,
                duration_p99_ms=p99,
            )
        )
    return out


def get_runs_per_bucket(*, actor: Actor, filters: MetricsFilter) -> list[RunBucket]:
    """Runs per time bucket and status for the filter."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        return runs_per_bucket(uow.session, actor.tenant_id, filters)


def get_run_summary(*, actor: Actor, filters: MetricsFilter) -> RunSummary:
    """Run counts by status, success rate, retries, dead runs and duration percentiles."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        return summary(uow.session, actor.tenant_id, filters)


def get_agent_run_stats(*, actor: Actor, filters: MetricsFilter) -> list[AgentRunStats]:
    """Per-agent run counts, success rate, dead runs and duration percentiles."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        return per_agent(uow.session, actor.tenant_id, filters)
