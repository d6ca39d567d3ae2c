"""The metrics alert rules watch, computed for one tenant over a trailing window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.enums import LLMOutcome, QuarantineStatus, ReviewStatus, RunStatus
from domain.models import AgentRun, LLMCall, QuarantinedRecord, ReviewItem

METRICS = {
    "agent_error_rate": "share of an agent's finished runs that failed or died (0-1)",
    "llm_p95_latency_ms": "95th percentile LLM call latency (ms)",
    "invalid_output_rate": "share of LLM calls whose output stayed invalid (0-1)",
    "dead_runs": "runs that went dead in the window",
    "overdue_review_items": "pending review items past their SLA due time",
    "oldest_pending_minutes": "age of the oldest pending review item (minutes)",
    "breaker_open": "1 when the model server's circuit breaker is open, else 0",
    "quarantine_growth": "records quarantined by ingest in the window",
}
P95_SAMPLE = 20_000


def compute(
    session: Session,
    *,
    tenant_id: int,
    metric: str,
    agent: str | None,
    window_min: int,
    now: datetime,
) -> float:
    """The metric's current value for the tenant (0 when there is nothing to measure)."""
    since = now - timedelta(minutes=window_min)
    if metric == "agent_error_rate":
        query = select(AgentRun.status, func.count()).where(
            AgentRun.tenant_id == tenant_id, AgentRun.finished_at >= since
        )
        if agent:
            query = query.where(AgentRun.agent == agent)
        counts = {k: int(v) for k, v in session.execute(query.group_by(AgentRun.status))}
        total = sum(counts.values())
        bad = counts.get(RunStatus.FAILED, 0) + counts.get(RunStatus.DEAD, 0)
        return bad / total if total else 0.0
    if metric == "llm_p95_latency_ms":
        latencies = sorted(
            session.scalars(
                select(LLMCall.latency_ms)
                .where(LLMCall.tenant_id == tenant_id, LLMCall.created_at >= since)
                .order_by(LLMCall.id.desc())
                .limit(P95_SAMPLE)
            ).all()
        )
        return float(latencies[int(0.95 * (len(latencies) - 1))]) if latencies else 0.0
    if metric == "invalid_output_rate":
        outcomes = session.execute(
            select(LLMCall.outcome, func.count())
            .where(LLMCall.tenant_id == tenant_id, LLMCall.created_at >= since)
            .group_by(LLMCall.outcome)
        )
        rows = {k: int(v) for k, v in outcomes}
        total = sum(rows.values())
        return rows.get(LLMOutcome.INVALID, 0) / total if total else 0.0
    if metric == "dead_runs":
        return float(
            session.scalar(
                select(func.count()).where(
                    AgentRun.tenant_id == tenant_id,
                    AgentRun.status == RunStatus.DEAD,
                    AgentRun.finished_at >= since,
                )
            )
            or 0
        )
    if metric == "overdue_review_items":
        return float(
            session.scalar(
                select(func.count()).where(
                    ReviewItem.tenant_id == tenant_id,
                    ReviewItem.status == ReviewStatus.PENDING,
                    ReviewItem.due_at < now,
                )
            )
            or 0
        )
    if metric == "oldest_pending_minutes":
        oldest = session.scalar(
            select(func.min(ReviewItem.created_at)).where(
                ReviewItem.tenant_id == tenant_id, ReviewItem.status == ReviewStatus.PENDING
            )
        )
        return max(0.0, (now - _aware(oldest)).total_seconds() / 60) if oldest else 0.0
    if metric == "breaker_open":
        from services.llm.client import get_client

        return 1.0 if get_client().breaker.is_open else 0.0
    if metric == "quarantine_growth":
        return float(
            session.scalar(
                select(func.count()).where(
                    QuarantinedRecord.tenant_id == tenant_id,
                    QuarantinedRecord.status == QuarantineStatus.PENDING,
                    QuarantinedRecord.created_at >= since,
                )
            )
            or 0
        )
    raise ValueError(f"unknown metric {metric!r}")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
