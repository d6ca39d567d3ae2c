"""LLM-call aggregates from the daily rollups (see services/metrics/rollups.py for when)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from domain.enums import LLMOutcome
from domain.models import MetricCallDay, MetricCallLatencyDay
from domain.models.metrics import NO_AGENT
from services.metrics import rollups
from services.metrics.filters import MetricsFilter

C, H = MetricCallDay, MetricCallLatencyDay
Key = tuple[Any, ...]


def _calls(outcome: LLMOutcome) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((C.outcome == outcome.value, C.calls))), 0)


MEASURES: tuple[ColumnElement[Any], ...] = (
    func.coalesce(func.sum(C.calls), 0),
    func.coalesce(func.sum(C.prompt_tokens), 0),
    func.coalesce(func.sum(C.completion_tokens), 0),
    func.coalesce(func.sum(C.latency_ms), 0),
    func.coalesce(func.sum(C.repaired), 0),
    _calls(LLMOutcome.INVALID),
    func.coalesce(func.sum(C.reasks), 0),
    _calls(LLMOutcome.TIMEOUT),
    _calls(LLMOutcome.UNAVAILABLE),
    _calls(LLMOutcome.ERROR),
)


def _histograms(rows: Sequence[Any], groups: int, fractions: Sequence[float]) -> dict[Key, Any]:
    bins: dict[Key, dict[int, int]] = {}
    for row in rows:
        key, b, n = tuple(row[:groups]), row[groups], int(row[groups + 1])
        bins.setdefault(key, {})[b] = bins.get(key, {}).get(b, 0) + n
    return {k: rollups.percentiles(v.items(), fractions) for k, v in bins.items()}


def stats_rows(
    session: Session, tenant_id: int, f: MetricsFilter
) -> tuple[list[Any], Any, list[Any]]:
    """Grouped rows (model, prompt key, version, *measures), the overall measures and the latency
    histogram rows (model, prompt key, version, bin, n), unmerged (services/metrics/hybrid.py
    adds the raw edges of a period to them)."""
    where = rollups.where(C, tenant_id, f)
    groups = (C.model, C.prompt_key, C.prompt_version)
    grouped = session.execute(
        select(*groups, *MEASURES).where(*where).group_by(*groups).order_by(*groups)
    ).all()
    overall = session.execute(select(*MEASURES).where(*where)).one()
    hgroups = (H.model, H.prompt_key, H.prompt_version, H.bin)
    hist = session.execute(
        select(*hgroups, func.sum(H.n)).where(*rollups.where(H, tenant_id, f)).group_by(*hgroups)
    ).all()
    return list(grouped), overall, list(hist)


def latency_days(
    session: Session, tenant_id: int, f: MetricsFilter, fractions: Sequence[float]
) -> list[tuple[datetime, int, list[float | None]]]:
    """Per UTC day: calls and latency percentiles."""
    counts = session.execute(
        select(C.day, func.sum(C.calls))
        .where(*rollups.where(C, tenant_id, f))
        .group_by(C.day)
        .order_by(C.day)
    ).all()
    hist = session.execute(
        select(H.day, H.bin, func.sum(H.n))
        .where(*rollups.where(H, tenant_id, f))
        .group_by(H.day, H.bin)
    ).all()
    bands = _histograms(hist, 1, fractions)
    return [(d, int(n), bands.get((d,), [None] * len(fractions))) for d, n in counts if n]


def spend_by_agent(session: Session, tenant_id: int, f: MetricsFilter) -> list[Any]:
    """Rows of (agent, tokens, latency ms) for calls made inside runs."""
    return list(
        session.execute(
            select(C.agent, func.sum(C.prompt_tokens + C.completion_tokens), func.sum(C.latency_ms))
            .where(*rollups.where(C, tenant_id, f), C.agent != NO_AGENT)
            .group_by(C.agent)
        )
    )


def models(session: Session, tenant_id: int, f: MetricsFilter) -> list[str]:
    """Models with calls in the period (from the rollups, so it is cheap on any period)."""
    return list(
        session.scalars(
            select(C.model)
            .where(C.tenant_id == tenant_id, C.day >= rollups.day_of(f.start), C.day < f.end)
            .distinct()
            .order_by(C.model)
        )
    )
