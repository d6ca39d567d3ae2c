"""Aggregates read from the daily rollups (domain/models/metrics.py) for large periods.

A period is served from the rollups when it starts and ends at UTC midnight, uses only filters
the rollups keep (agent, and for LLM calls model and prompt version), and holds more raw rows
than ``metrics_exact_max_rows``. Counts and sums are then exact; percentiles come from log-scale
histograms and are within 2.5 % of the exact value (``estimated`` is true on those DTOs).
Smaller periods are computed exactly from the raw rows.

The rollups are keyed by UTC day. A period of whole UTC days holds the same rows whether it is
summed from them or counted raw, so totals may come from them in any time zone; daily buckets
come from them only when the tenant's days are UTC days over the whole period (its zone's offset
is 0 throughout: ``MetricsFilter.utc_days``), and are counted from the raw rows otherwise.
Totals of a period that is not whole UTC days (a local day away from UTC) come from the rollups
over the whole UTC days inside it plus the raw rows of its partial edges (hybrid.py) when those
days hold more than ``metrics_exact_max_rows``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from domain.enums import AgentName, RunStatus
from domain.models import (
    MetricCallDay,
    MetricCallLatencyDay,
    MetricReviewDay,
    MetricReviewHistDay,
    MetricRunDay,
    MetricRunDurationDay,
)
from domain.models.metrics import HISTOGRAM_BASE, NO_AGENT
from services.config import get_settings
from services.metrics.filters import MetricsFilter

Model = (
    type[MetricRunDay]
    | type[MetricRunDurationDay]
    | type[MetricCallDay]
    | type[MetricCallLatencyDay]
    | type[MetricReviewDay]
    | type[MetricReviewHistDay]
)


def day_of(moment: datetime) -> datetime:
    """The UTC midnight starting the day a moment falls in."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _midnight(moment: datetime) -> bool:
    m = moment.astimezone(UTC)
    return (m.hour, m.minute, m.second, m.microsecond) == (0, 0, 0, 0)


def where(model: Model, tenant_id: int, f: MetricsFilter) -> list[ColumnElement[bool]]:
    """Conditions on a rollup table for the period and the filters it keeps."""
    out = [model.tenant_id == tenant_id, model.day >= f.start, model.day < f.end]
    if f.agent is not None:
        out.append(model.agent == f.agent.value)
    if model in (MetricCallDay, MetricCallLatencyDay) and f.model is not None:
        out.append(model.model == f.model)
    if model in (MetricCallDay, MetricCallLatencyDay, MetricReviewDay, MetricReviewHistDay):
        if f.prompt_key is not None:
            out.append(model.prompt_key == f.prompt_key)
        if f.prompt_version is not None:
            out.append(model.prompt_version == f.prompt_version)
    return out


def _eligible(f: MetricsFilter) -> bool:
    settings = get_settings()
    return (
        settings.metrics_rollups
        and _midnight(f.start)
        and _midnight(f.end)
        and f.trigger is None
        and f.status is None
    )


def for_runs(session: Session, tenant_id: int, f: MetricsFilter) -> bool:
    """Whether run aggregates for this filter should come from the rollups."""
    if not _eligible(f) or f.filters_runs_by_call:
        return False
    rows = session.scalar(
        select(func.coalesce(func.sum(MetricRunDay.runs), 0)).where(
            *where(MetricRunDay, tenant_id, f)
        )
    )
    limit: int = get_settings().metrics_exact_max_rows
    return int(rows or 0) > limit


def for_calls(session: Session, tenant_id: int, f: MetricsFilter) -> bool:
    """Whether LLM-call aggregates for this filter should come from the rollups."""
    if not _eligible(f):
        return False
    rows = session.scalar(
        select(func.coalesce(func.sum(MetricCallDay.calls), 0)).where(
            *where(MetricCallDay, tenant_id, f)
        )
    )
    limit: int = get_settings().metrics_exact_max_rows
    return int(rows or 0) > limit


def for_reviews(session: Session, tenant_id: int, f: MetricsFilter) -> bool:
    """Whether review-outcome aggregates for this filter should come from the rollups."""
    if not _eligible(f) or f.model is not None:
        return False
    rows = session.scalar(
        select(func.coalesce(func.sum(MetricReviewDay.n), 0)).where(
            *where(MetricReviewDay, tenant_id, f)
        )
    )
    limit: int = get_settings().metrics_exact_max_rows
    return int(rows or 0) > limit


def percentiles(bins: Iterable[tuple[int, int]], fractions: Sequence[float]) -> list[float | None]:
    """Percentiles from histogram bins: ``percentile_cont``'s rank ``p * (n - 1)``, interpolated
    between the geometric middles of the bins holding its two neighbouring ranks."""
    items = sorted((int(b), int(n)) for b, n in bins if n > 0)
    total = sum(n for _, n in items)
    if total == 0:
        return [None] * len(fractions)

    def at(rank: int) -> float:
        seen = 0
        for b, n in items:
            seen += n
            if seen > rank:
                return float(HISTOGRAM_BASE ** (b + 0.5))
        return float(HISTOGRAM_BASE ** (items[-1][0] + 0.5))

    out: list[float | None] = []
    for p in fractions:
        position = p * (total - 1)
        low = math.floor(position)
        lower = at(low)
        upper = at(low + 1) if low + 1 < total else lower
        out.append(lower + (position - low) * (upper - lower))
    return out


def run_counts(session: Session, tenant_id: int, f: MetricsFilter, *group: Any) -> list[Any]:
    """Rows of (*group, status, runs, retried_runs, retry_attempts)."""
    return list(
        session.execute(
            select(
                *group,
                MetricRunDay.status,
                func.sum(MetricRunDay.runs),
                func.sum(MetricRunDay.retried_runs),
                func.sum(MetricRunDay.retry_attempts),
            )
            .where(*where(MetricRunDay, tenant_id, f))
            .group_by(*group, MetricRunDay.status)
        )
    )


def duration_bins(session: Session, tenant_id: int, f: MetricsFilter) -> list[Any]:
    """Rows of (agent, bin, n) of the run-duration histograms."""
    return list(
        session.execute(
            select(
                MetricRunDurationDay.agent,
                MetricRunDurationDay.bin,
                func.sum(MetricRunDurationDay.n),
            )
            .where(*where(MetricRunDurationDay, tenant_id, f))
            .group_by(MetricRunDurationDay.agent, MetricRunDurationDay.bin)
        )
    )


def durations(
    rows: Iterable[Sequence[Any]], fractions: Sequence[float]
) -> dict[str, list[float | None]]:
    """Run-duration percentiles per agent from rows of (agent, bin, n), plus the key "" for
    every agent together."""
    per_agent: dict[str, dict[int, int]] = {}
    merged: dict[int, int] = {}
    for a, b, n in rows:
        found = per_agent.setdefault(str(a), {})
        found[int(b)] = found.get(int(b), 0) + int(n)
        merged[int(b)] = merged.get(int(b), 0) + int(n)
    out = {a: percentiles(v.items(), fractions) for a, v in per_agent.items()}
    out[""] = percentiles(merged.items(), fractions)
    return out


def status(value: str) -> RunStatus:
    return RunStatus(value)


def agent_name(value: str) -> str:
    return AgentName(value).value if value != NO_AGENT else NO_AGENT
