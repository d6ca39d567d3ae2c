"""LLM-call aggregates by model and prompt version, and latency percentile bands over time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from domain.enums import LLMOutcome
from domain.models import LLMCall
from services.actor import Actor
from services.metrics import hybrid, llm_rollup, percentiles, rollups
from services.metrics.filters import (
    MetricsFilter,
    bucket_key,
    call_source,
    call_where,
    for_tenant,
    parse_bucket,
    tune,
)
from services.permissions import Action, require
from services.uow import UnitOfWork

LATENCY_FRACTIONS = (0.5, 0.95)


class LLMStats(BaseModel):
    """One model and prompt version (or every call, when model is "all")."""

    model: str
    prompt_key: str
    prompt_version: int | None
    calls: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    tokens_per_second: float | None
    repair_rate: float | None
    validation_failure_rate: float | None
    reasks_per_call: float | None
    timeouts: int
    unavailable: int
    errors: int
    estimated: bool = False


class LatencyBucket(BaseModel):
    bucket: datetime
    calls: int
    p50_ms: float | None
    p95_ms: float | None
    estimated: bool = False


def _outcome(outcome: LLMOutcome) -> ColumnElement[int]:
    return func.count(case((LLMCall.outcome == outcome, 1)))


GROUPS = (LLMCall.model, LLMCall.prompt_key, LLMCall.prompt_version)


def _measures() -> tuple[ColumnElement[Any], ...]:
    return (
        func.count(),
        func.coalesce(func.sum(LLMCall.prompt_tokens), 0),
        func.coalesce(func.sum(LLMCall.completion_tokens), 0),
        func.coalesce(func.sum(LLMCall.latency_ms), 0),
        func.count(case((LLMCall.repaired.is_(True), 1))),
        _outcome(LLMOutcome.INVALID),
        func.coalesce(func.sum(LLMCall.reasks), 0),
        _outcome(LLMOutcome.TIMEOUT),
        _outcome(LLMOutcome.UNAVAILABLE),
        _outcome(LLMOutcome.ERROR),
    )


def stats(session: Session, tenant_id: int, f: MetricsFilter) -> list[LLMStats]:
    """Per model and prompt version, then one overall row (model "all") at the end."""
    parts = hybrid.plan(session, tenant_id, f, rollups.for_calls)
    if parts is not None:
        return _build(*_from_rollups(session, tenant_id, *parts), estimated=True)
    where = call_where(tenant_id, f)
    source = call_source(f)
    measures = _measures()
    grouped = session.execute(
        select(*GROUPS, *measures)
        .select_from(source)
        .where(*where)
        .group_by(*GROUPS)
        .order_by(*GROUPS)
    ).all()
    overall = session.execute(select(*measures).select_from(source).where(*where)).one()
    latency = percentiles.grouped(
        session,
        select(
            LLMCall.model.label("m"),
            LLMCall.prompt_key.label("k"),
            LLMCall.prompt_version.label("pv"),
            LLMCall.latency_ms.label("v"),
        )
        .select_from(source)
        .where(*where),
        groups=3,
        fractions=LATENCY_FRACTIONS,
    )
    all_latency = percentiles.single(
        session,
        select(LLMCall.latency_ms.label("v")).select_from(source).where(*where),
        LATENCY_FRACTIONS,
    )
    return _build(grouped, overall, latency, all_latency, estimated=False)


def _from_rollups(
    session: Session, tenant_id: int, whole: MetricsFilter, edges: list[MetricsFilter]
) -> tuple[list[Any], Any, dict[tuple[Any, ...], list[float | None]], list[float | None]]:
    """The rollups' rows over whole UTC days plus the raw rows of the edges (hybrid.py)."""
    grouped, overall, hist = llm_rollup.stats_rows(session, tenant_id, whole)
    grouped_sets: list[list[Any]] = [grouped]
    overall_sets: list[list[Any]] = [[overall]]
    hist_sets: list[list[Any]] = [hist]
    for edge in edges:
        where, source = call_where(tenant_id, edge), call_source(edge)
        latency_bin = hybrid.binned(session, "llm_calls.latency_ms")
        measured = select(*GROUPS, *_measures()).select_from(source).where(*where)
        grouped_sets.append(list(session.execute(measured.group_by(*GROUPS))))
        overall_sets.append(
            [session.execute(select(*_measures()).select_from(source).where(*where)).one()]
        )
        binned = select(*GROUPS, latency_bin, func.count()).select_from(source).where(*where)
        hist_sets.append(list(session.execute(binned.group_by(*GROUPS, latency_bin))))
    rows = [r for r in hybrid.add_rows(3, *grouped_sets) if r[3]]
    if edges:
        rows.sort(key=lambda r: (r[0], r[1], -1 if r[2] is None else r[2]))
    bins = hybrid.add_bins(3, *hist_sets)
    return (
        rows,
        hybrid.add_rows(0, *overall_sets)[0],
        hybrid.percentiles(bins, LATENCY_FRACTIONS),
        rollups.percentiles(hybrid.overall(bins).items(), LATENCY_FRACTIONS),
    )


def _build(
    grouped: Sequence[Any],
    overall: Sequence[Any],
    latency: dict[tuple[Any, ...], list[float | None]],
    all_latency: list[float | None],
    *,
    estimated: bool,
) -> list[LLMStats]:
    out = [_row(r[:3], r[3:], latency.get(tuple(r[:3]), [None, None]), estimated) for r in grouped]
    if overall[0]:
        out.append(_row(("all", "all", None), tuple(overall), all_latency, estimated))
    return out


def _row(
    key: Sequence[Any], m: Sequence[Any], lat: list[float | None], estimated: bool
) -> LLMStats:
    calls, p_tok, c_tok, ms, repaired, invalid, reasks, timeouts, unavailable, errors = (
        int(v) for v in m
    )
    model, prompt_key, prompt_version = key
    return LLMStats(
        model=str(model),
        prompt_key=str(prompt_key),
        prompt_version=None if prompt_version is None else int(prompt_version),
        calls=calls,
        latency_p50_ms=lat[0],
        latency_p95_ms=lat[1],
        prompt_tokens=p_tok,
        completion_tokens=c_tok,
        tokens_per_second=c_tok * 1000.0 / ms if ms else None,
        repair_rate=repaired / calls if calls else None,
        validation_failure_rate=invalid / calls if calls else None,
        reasks_per_call=reasks / calls if calls else None,
        timeouts=timeouts,
        unavailable=unavailable,
        errors=errors,
        estimated=estimated,
    )


def latency_per_bucket(session: Session, tenant_id: int, f: MetricsFilter) -> list[LatencyBucket]:
    if f.bucket == "day" and f.utc_days and rollups.for_calls(session, tenant_id, f):
        return [
            LatencyBucket(
                bucket=d.astimezone(f.zone), calls=n, p50_ms=p[0], p95_ms=p[1], estimated=True
            )
            for d, n, p in llm_rollup.latency_days(session, tenant_id, f, LATENCY_FRACTIONS)
        ]
    where = call_where(tenant_id, f)
    key = bucket_key(session, LLMCall.created_at, f, f.bucket).label("bucket")
    source = call_source(f)
    counts = session.execute(
        select(key, func.count()).select_from(source).where(*where).group_by(key).order_by(key)
    ).all()
    bands = percentiles.grouped(
        session,
        select(key, LLMCall.latency_ms.label("v")).select_from(source).where(*where),
        groups=1,
        fractions=LATENCY_FRACTIONS,
    )
    return [
        LatencyBucket(
            bucket=parse_bucket(b, f, f.bucket),
            calls=n,
            p50_ms=bands.get((b,), [None, None])[0],
            p95_ms=bands.get((b,), [None, None])[1],
        )
        for b, n in counts
    ]


def get_llm_stats(*, actor: Actor, filters: MetricsFilter) -> list[LLMStats]:
    """LLM-call latency, tokens, repair/validation/re-ask rates and failures by model and prompt."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        return stats(
            uow.session, actor.tenant_id, for_tenant(uow.session, actor.tenant_id, filters)
        )


def get_latency_per_bucket(*, actor: Actor, filters: MetricsFilter) -> list[LatencyBucket]:
    """LLM-call count and p50/p95 latency per time bucket."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        return latency_per_bucket(
            uow.session, actor.tenant_id, for_tenant(uow.session, actor.tenant_id, filters)
        )
