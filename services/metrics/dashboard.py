"""Everything the metrics page shows, in one read transaction, plus the sidebar's choices."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select

from domain.enums import AgentName, RunStatus, RunTrigger
from domain.models import Prompt
from services.actor import Actor
from services.config import get_settings
from services.metrics import cost as cost_m
from services.metrics import llm as llm_m
from services.metrics import llm_rollup
from services.metrics import reviews as reviews_m
from services.metrics import runs as runs_m
from services.metrics.filters import MetricsFilter, for_tenant, tune
from services.permissions import Action, require
from services.uow import UnitOfWork


class MetricsDashboard(BaseModel):
    filters: MetricsFilter
    summary: runs_m.RunSummary
    previous: runs_m.RunSummary
    runs_per_bucket: list[runs_m.RunBucket]
    agents: list[runs_m.AgentRunStats]
    llm: list[llm_m.LLMStats]
    latency: list[llm_m.LatencyBucket]
    reviews: list[reviews_m.ReviewOutcomes]
    rejection_reasons: dict[str, int]
    cost: list[cost_m.ApprovedDraftCost]
    previous_cost: cost_m.ApprovedDraftCost | None  # every agent together, previous period


class PromptVersionOption(BaseModel):
    prompt_key: str
    version: int


class FilterOptions(BaseModel):
    agents: list[str]
    triggers: list[str]
    statuses: list[str]
    models: list[str]
    prompt_versions: list[PromptVersionOption]
    refresh_seconds: int


def get_dashboard(*, actor: Actor, filters: MetricsFilter) -> MetricsDashboard:
    """Every aggregate of the metrics page for the filter (and the previous period's summary)."""
    require(actor, Action.VIEW_METRICS)
    tenant = actor.tenant_id
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        s = uow.session
        filters = for_tenant(s, tenant, filters)
        outcome_rows = reviews_m.outcomes(s, tenant, filters)
        return MetricsDashboard(
            filters=filters,
            summary=runs_m.summary(s, tenant, filters),
            previous=runs_m.summary(s, tenant, filters.previous()),
            runs_per_bucket=runs_m.runs_per_bucket(s, tenant, filters),
            agents=runs_m.per_agent(s, tenant, filters),
            llm=llm_m.stats(s, tenant, filters),
            latency=llm_m.latency_per_bucket(s, tenant, filters),
            reviews=outcome_rows,
            rejection_reasons=reviews_m.rejection_reasons(outcome_rows),
            cost=cost_m.per_agent(s, tenant, filters),
            previous_cost=cost_m.overall(s, tenant, filters.previous()),
        )


def get_filter_options(*, actor: Actor, filters: MetricsFilter) -> FilterOptions:
    """The agents, triggers, statuses, models (seen in the range) and prompt versions to pick."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        models = llm_rollup.models(uow.session, actor.tenant_id, filters)
        prompts = uow.session.execute(
            select(Prompt.key, Prompt.version)
            .where(Prompt.tenant_id == actor.tenant_id)
            .order_by(Prompt.key, Prompt.version)
        ).all()
    return FilterOptions(
        agents=[a.value for a in AgentName],
        triggers=[t.value for t in RunTrigger],
        statuses=[s.value for s in RunStatus],
        models=list(models),
        prompt_versions=[PromptVersionOption(prompt_key=k, version=v) for k, v in prompts],
        refresh_seconds=get_settings().metrics_refresh_seconds,
    )
