"""Cost per approved draft: every token and every second of model time an agent spent in the
period (failed runs and rejected drafts included), divided by the drafts people approved.

Prices come from settings: ``metrics_price_per_1k_tokens`` for hosted models and
``metrics_price_per_gpu_hour`` (per hour of summed LLM latency) for local ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.models import AgentRun, LLMCall, MetricReviewDay, ReviewItem
from services.actor import Actor
from services.config import get_settings
from services.metrics import hybrid, llm_rollup, rollups
from services.metrics.filters import MetricsFilter, call_where, for_tenant, tune
from services.metrics.reviews import APPROVED, review_where
from services.permissions import Action, require
from services.uow import UnitOfWork

ALL = "all"


class ApprovedDraftCost(BaseModel):
    agent: str
    approved: int
    tokens: int
    model_seconds: float
    tokens_per_approved: float | None
    model_seconds_per_approved: float | None
    cost: float
    cost_per_approved: float | None
    currency: str


def per_agent(session: Session, tenant_id: int, f: MetricsFilter) -> list[ApprovedDraftCost]:
    """Per agent, then one row for every agent together (agent "all")."""
    spend: Sequence[Any]
    calls = hybrid.plan(session, tenant_id, f, rollups.for_calls)
    if calls is not None:
        whole, edges = calls
        spend = hybrid.add_rows(
            1,
            [(str(a), t, ms) for a, t, ms in llm_rollup.spend_by_agent(session, tenant_id, whole)],
            *([(str(a), t, ms) for a, t, ms in _spend(session, tenant_id, e)] for e in edges),
        )
    else:
        spend = _spend(session, tenant_id, f)
    approved: Sequence[Any]
    reviews = hybrid.plan(session, tenant_id, f, rollups.for_reviews)
    if reviews is not None and (not reviews[1] or not f.filters_runs_by_call):
        whole, edges = reviews
        R = MetricReviewDay
        from_rollups = session.execute(
            select(R.agent, func.sum(R.n))
            .where(*rollups.where(R, tenant_id, whole), R.status.in_([s.value for s in APPROVED]))
            .group_by(R.agent)
        ).all()
        approved = hybrid.add_rows(
            1, from_rollups, *(_approved(session, tenant_id, e) for e in edges)
        )
    else:
        approved = _approved(session, tenant_id, f)
    tokens = {str(agent): int(t) for agent, t, _ in spend}
    millis = {str(agent): int(ms) for agent, _, ms in spend}
    counts = {str(agent): int(n) for agent, n in approved}
    agents = sorted(set(tokens) | set(counts))
    rows = [_cost(a, counts.get(a, 0), tokens.get(a, 0), millis.get(a, 0)) for a in agents]
    if rows:
        rows.append(_cost(ALL, sum(counts.values()), sum(tokens.values()), sum(millis.values())))
    return rows


def overall(session: Session, tenant_id: int, f: MetricsFilter) -> ApprovedDraftCost | None:
    """The row for every agent together, or None when nothing was spent or approved."""
    return next((row for row in per_agent(session, tenant_id, f) if row.agent == ALL), None)


def _approved(session: Session, tenant_id: int, f: MetricsFilter) -> Sequence[Any]:
    return session.execute(
        select(ReviewItem.drafted_by, func.count())
        .where(*review_where(tenant_id, f), ReviewItem.status.in_(APPROVED))
        .group_by(ReviewItem.drafted_by)
    ).all()


def _spend(session: Session, tenant_id: int, f: MetricsFilter) -> Sequence[Any]:
    return session.execute(
        select(
            AgentRun.agent,
            func.coalesce(func.sum(LLMCall.prompt_tokens + LLMCall.completion_tokens), 0),
            func.coalesce(func.sum(LLMCall.latency_ms), 0),
        )
        .select_from(LLMCall.__table__.join(AgentRun.__table__, AgentRun.id == LLMCall.run_id))
        .where(*call_where(tenant_id, f))
        .group_by(AgentRun.agent)
    ).all()


def _cost(agent: str, approved: int, tokens: int, millis: int) -> ApprovedDraftCost:
    settings = get_settings()
    seconds = millis / 1000.0
    cost = (
        tokens / 1000.0 * settings.metrics_price_per_1k_tokens
        + seconds / 3600.0 * settings.metrics_price_per_gpu_hour
    )
    return ApprovedDraftCost(
        agent=agent,
        approved=approved,
        tokens=tokens,
        model_seconds=seconds,
        tokens_per_approved=tokens / approved if approved else None,
        model_seconds_per_approved=seconds / approved if approved else None,
        cost=cost,
        cost_per_approved=cost / approved if approved else None,
        currency=settings.metrics_currency,
    )


def get_cost_per_approved_draft(*, actor: Actor, filters: MetricsFilter) -> list[ApprovedDraftCost]:
    """Tokens, model time and priced cost per approved draft, per agent and overall."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        return per_agent(
            uow.session, actor.tenant_id, for_tenant(uow.session, actor.tenant_id, filters)
        )
