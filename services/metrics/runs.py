"""Agent-run aggregates: runs per bucket by status, success rate, retries, dead runs, durations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from domain.enums import RunStatus
from domain.models import AgentRun, MetricRunDay
from services.actor import Actor
from services.metrics import hybrid, percentiles, rollups
from services.metrics.filters import (
    MetricsFilter,
    bucket_key,
    for_tenant,
    parse_bucket,
    run_where,
    tune,
)
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
    estimated: bool = False


class AgentRunStats(BaseModel):
    agent: str
    runs: int
    succeeded: int
    success_rate: float | None
    dead: int
    duration_p50_ms: float | None
    duration_p95_ms: float | None
    duration_p99_ms: float | None
    estimated: bool = False


def runs_per_bucket(session: Session, tenant_id: int, f: MetricsFilter) -> list[RunBucket]:
    if f.bucket == "day" and f.utc_days and rollups.for_runs(session, tenant_id, f):
        rows = rollups.run_counts(session, tenant_id, f, MetricRunDay.day)
        return sorted(
            (
                RunBucket(bucket=d.astimezone(f.zone), status=RunStatus(s), runs=int(n))
                for d, s, n, _, _ in rows
                if n
            ),
            key=lambda b: (b.bucket, b.status.value),
        )
    key = bucket_key(session, AgentRun.created_at, f, f.bucket).label("bucket")
    stmt = (
        select(key, AgentRun.status, func.count())
        .where(*run_where(tenant_id, f))
        .group_by(key, AgentRun.status)
        .order_by(key, AgentRun.status)
    )
    return [
        RunBucket(bucket=parse_bucket(b, f, f.bucket), status=s, runs=n)
        for b, s, n in session.execute(stmt)
    ]


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _counts(
    session: Session, tenant_id: int, f: MetricsFilter, by_agent: bool
) -> tuple[list[Any], dict[str, list[float | None]], bool]:
    """Rows of (agent or "", status, runs, retried runs, retry attempts), duration percentiles
    per agent (key "" for all), and whether the percentiles are estimated from the rollups."""
    parts = hybrid.plan(session, tenant_id, f, rollups.for_runs)
    if parts is not None:
        return (*_from_rollups(session, tenant_id, *parts, by_agent=by_agent), True)
    where = run_where(tenant_id, f)
    rows = _raw_counts(session, where, by_agent)
    value = AgentRun.duration_ms.label("v")
    if by_agent:
        base = select(AgentRun.agent.label("agent"), value).where(*where)
        found = percentiles.grouped(session, base, groups=1, fractions=DURATION_FRACTIONS)
        durations = {str(k[0]): v for k, v in found.items()}
    else:
        durations = {
            "": percentiles.single(session, select(value).where(*where), DURATION_FRACTIONS)
        }
    return rows, durations, False


def _raw_counts(session: Session, where: list[Any], by_agent: bool) -> list[Any]:
    extra = func.coalesce(func.sum(case((AgentRun.attempts > 1, AgentRun.attempts - 1))), 0)
    retried = func.count(case((AgentRun.attempts > 1, 1)))
    group = [AgentRun.agent] if by_agent else []
    stmt = select(*group, AgentRun.status, func.count(), retried, extra).where(*where)
    rows = list(session.execute(stmt.group_by(*group, AgentRun.status)))
    return [(str(r[0]), *r[1:]) if by_agent else ("", *r) for r in rows]


def _from_rollups(
    session: Session,
    tenant_id: int,
    whole: MetricsFilter,
    edges: list[MetricsFilter],
    *,
    by_agent: bool,
) -> tuple[list[Any], dict[str, list[float | None]]]:
    """The rollups over whole UTC days plus the raw rows of the edges (hybrid.py)."""
    group = [MetricRunDay.agent] if by_agent else []
    found = rollups.run_counts(session, tenant_id, whole, *group)
    row_sets = [
        [
            (str(r[0]), RunStatus(r[1]), *r[2:]) if by_agent else ("", RunStatus(r[0]), *r[1:])
            for r in found
        ]
    ]
    bin_sets = [rollups.duration_bins(session, tenant_id, whole)]
    duration_bin = hybrid.binned(session, "agent_runs.duration_ms")
    for edge in edges:
        where = run_where(tenant_id, edge)
        raw = _raw_counts(session, where, by_agent)
        row_sets.append([(a, RunStatus(s), *rest) for a, s, *rest in raw])
        bins = select(AgentRun.agent, duration_bin, func.count()).where(
            *where, AgentRun.duration_ms.is_not(None)
        )
        bin_sets.append(
            [
                (str(a), b, n)
                for a, b, n in session.execute(bins.group_by(AgentRun.agent, duration_bin))
            ]
        )
    rows = hybrid.add_rows(2, *row_sets)
    return rows, rollups.durations([r for rs in bin_sets for r in rs], DURATION_FRACTIONS)


def summary(session: Session, tenant_id: int, f: MetricsFilter) -> RunSummary:
    rows, durations, estimated = _counts(session, tenant_id, f, by_agent=False)
    by_status: dict[RunStatus, int] = dict.fromkeys(RunStatus, 0)
    retried_runs = retry_attempts = 0
    for _, status, n, r, a in rows:
        by_status[RunStatus(status)] += int(n)
        retried_runs += int(r)
        retry_attempts += int(a)
    finished = sum(by_status[s] for s in FINISHED)
    p50, p95, p99 = durations.get("", [None, None, None])
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
        estimated=estimated,
    )


def per_agent(session: Session, tenant_id: int, f: MetricsFilter) -> list[AgentRunStats]:
    rows, durations, estimated = _counts(session, tenant_id, f, by_agent=True)
    agents: dict[str, dict[RunStatus, int]] = {}
    for agent, status, n, _, _ in rows:
        counts = agents.setdefault(agent, dict.fromkeys(RunStatus, 0))
        counts[RunStatus(status)] += int(n)
    out = []
    for agent in sorted(a for a, c in agents.items() if sum(c.values())):
        counts = agents[agent]
        p50, p95, p99 = durations.get(agent, [None, None, None])
        out.append(
            AgentRunStats(
                agent=agent,
                runs=sum(counts.values()),
                succeeded=counts[RunStatus.SUCCEEDED],
                success_rate=_rate(counts[RunStatus.SUCCEEDED], sum(counts[s] for s in FINISHED)),
                dead=counts[RunStatus.DEAD],
                duration_p50_ms=p50,
                duration_p95_ms=p95,
                duration_p99_ms=p99,
                estimated=estimated,
            )
        )
    return out


def get_runs_per_bucket(*, actor: Actor, filters: MetricsFilter) -> list[RunBucket]:
    """Runs per time bucket and status for the filter."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        return runs_per_bucket(
            uow.session, actor.tenant_id, for_tenant(uow.session, actor.tenant_id, filters)
        )


def get_run_summary(*, actor: Actor, filters: MetricsFilter) -> RunSummary:
    """Run counts by status, success rate, retries, dead runs and duration percentiles."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        return summary(
            uow.session, actor.tenant_id, for_tenant(uow.session, actor.tenant_id, filters)
        )


def get_agent_run_stats(*, actor: Actor, filters: MetricsFilter) -> list[AgentRunStats]:
    """Per-agent run counts, success rate, dead runs and duration percentiles."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        return per_agent(
            uow.session, actor.tenant_id, for_tenant(uow.session, actor.tenant_id, filters)
        )
