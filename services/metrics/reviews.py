"""What people did with the drafts: outcomes per agent and prompt version, time to decision.

A draft's prompt version is the highest prompt version among the LLM calls of the run that
produced it (a run re-tried after a prompt rollout counts under the newer version). Drafts without
a run, or whose run made no LLM call, show under prompt "none".
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, exists, func, literal_column, select
from sqlalchemy.orm import Session

from domain.enums import ReasonCode, ReviewStatus
from domain.models import AgentRun, LLMCall, MetricReviewDay, MetricReviewHistDay, ReviewItem
from services.actor import Actor
from services.metrics import hybrid, percentiles, rollup_sql, rollups
from services.metrics.filters import (
    MetricsFilter,
    call_matches,
    dialect,
    for_tenant,
    run_matches,
    seconds_between,
    tune,
)
from services.permissions import Action, require
from services.uow import UnitOfWork

APPROVED = (ReviewStatus.APPROVED, ReviewStatus.EXECUTED, ReviewStatus.FAILED)
NO_PROMPT = "none"


class ReviewOutcomes(BaseModel):
    """One agent and prompt version."""

    agent: str
    prompt_key: str
    prompt_version: int | None
    drafts: int
    approved_as_drafted: int
    edited_then_approved: int
    median_edit_distance: float | None
    rejected: int
    rejected_by_reason: dict[str, int]
    expired: int
    pending: int
    approval_rate: float | None
    decision_p50_s: float | None
    decision_p95_s: float | None


def review_where(tenant_id: int, f: MetricsFilter) -> list[ColumnElement[bool]]:
    """Conditions on ReviewItem rows for the range and every filter (via its run)."""
    return [
        ReviewItem.created_at >= f.start,
        ReviewItem.created_at < f.end,
        *review_matches(tenant_id, f),
    ]


def review_matches(tenant_id: int, f: MetricsFilter) -> list[ColumnElement[bool]]:
    """Conditions on ReviewItem rows for the tenant and every filter (via its run), any time."""
    where: list[ColumnElement[bool]] = [ReviewItem.tenant_id == tenant_id]
    if f.agent is not None:
        where.append(ReviewItem.drafted_by == f.agent.value)
    if f.trigger is not None or f.status is not None:
        run = select(AgentRun.id).where(
            AgentRun.id == ReviewItem.run_id, AgentRun.tenant_id == tenant_id, *run_matches(f)
        )
        where.append(exists(run))
    if f.filters_runs_by_call:
        call = select(LLMCall.id).where(
            LLMCall.run_id == ReviewItem.run_id, LLMCall.tenant_id == tenant_id, *call_matches(f)
        )
        where.append(exists(call))
    return where


def _drafts(session: Session, tenant_id: int, f: MetricsFilter, *, bins: bool = False) -> Any:
    """The drafts in scope with their run's prompt key and highest prompt version, looked up per
    draft through the llm_calls run_id index (cheaper than grouping every call of the period);
    with ``bins``, also the rollups' histogram bins of edit distance and wait."""

    def of_run(column: Any) -> Any:
        return (
            select(func.max(column))
            .where(LLMCall.run_id == ReviewItem.run_id, LLMCall.tenant_id == tenant_id)
            .scalar_subquery()
        )

    return (
        select(
            ReviewItem.drafted_by.label("agent"),
            func.coalesce(of_run(LLMCall.prompt_key), literal_column(f"'{NO_PROMPT}'")).label("pk"),
            of_run(LLMCall.prompt_version).label("pv"),
            ReviewItem.status.label("status"),
            ReviewItem.edit_distance.label("edit_distance"),
            ReviewItem.reason_code.label("reason_code"),
            seconds_between(session, ReviewItem.created_at, ReviewItem.decided_at).label("wait"),
            *(_bins(session) if bins else ()),
        )
        .where(*review_where(tenant_id, f))
        .subquery("drafts")
    )


def _bins(session: Session) -> tuple[Any, ...]:
    wait = rollup_sql.wait_seconds(
        dialect(session), "review_items.created_at", "review_items.decided_at"
    )
    return (
        hybrid.binned(session, "review_items.edit_distance").label("edit_bin"),
        hybrid.binned(session, wait).label("wait_bin"),
    )


def _rollup_parts(
    session: Session, tenant_id: int, f: MetricsFilter, edges: list[MetricsFilter]
) -> tuple[Any, Any, Any]:
    """Counts and percentiles from the rollups over ``f`` (whole UTC days) plus the raw rows of
    the edges (hybrid.py)."""
    R, H = MetricReviewDay, MetricReviewHistDay
    key = (R.agent, R.prompt_key, R.prompt_version)
    counts = [
        (a, pk, None if pv < 0 else pv, ReviewStatus(s), bool(e), ReasonCode(c) if c else None, n)
        for a, pk, pv, s, e, c, n in session.execute(
            select(*key, R.status, R.edited, R.reason_code, func.sum(R.n))
            .where(*rollups.where(R, tenant_id, f))
            .group_by(*key, R.status, R.edited, R.reason_code)
        )
        if n
    ]
    hkey = (H.agent, H.prompt_key, H.prompt_version, H.measure, H.bin)
    bins: dict[tuple[Any, ...], dict[int, int]] = {}
    for a, pk, pv, measure, b, n in session.execute(
        select(*hkey, func.sum(H.n)).where(*rollups.where(H, tenant_id, f)).group_by(*hkey)
    ):
        found = bins.setdefault((a, pk, None if pv < 0 else pv, measure), {})
        found[b] = found.get(b, 0) + int(n)
    for edge in edges:
        edge_counts, edge_bins = _edge_parts(session, tenant_id, edge)
        counts += edge_counts
        for k, v in edge_bins.items():
            found = bins.setdefault(k, {})
            for b, n in v.items():
                found[b] = found.get(b, 0) + n
    distances = {
        k[:3]: rollups.percentiles(v.items(), (0.5,)) for k, v in bins.items() if k[3] == "edit"
    }
    waits = {
        k[:3]: rollups.percentiles(v.items(), (0.5, 0.95))
        for k, v in bins.items()
        if k[3] == "wait"
    }
    return counts, distances, waits


def _edge_parts(
    session: Session, tenant_id: int, f: MetricsFilter
) -> tuple[list[Any], dict[tuple[Any, ...], dict[int, int]]]:
    """Raw counts in the rollups' shape and histogram bins per (agent, prompt, version, measure)."""
    d = _drafts(session, tenant_id, f, bins=True)
    key = (d.c.agent, d.c.pk, d.c.pv)
    edited = func.coalesce(d.c.edit_distance, literal_column("0")) > literal_column("0")
    counts = [
        (a, pk, pv, ReviewStatus(s), bool(e), ReasonCode(c) if c else None, int(n))
        for a, pk, pv, s, e, c, n in session.execute(
            select(*key, d.c.status, edited, d.c.reason_code, func.count()).group_by(
                *key, d.c.status, edited, d.c.reason_code
            )
        )
    ]
    edits = select(*key, literal_column("'edit'"), d.c.edit_bin, func.count()).where(
        edited, d.c.status.in_(APPROVED)
    )
    waits = select(*key, literal_column("'wait'"), d.c.wait_bin, func.count()).where(
        d.c.wait.is_not(None)
    )
    bins: dict[tuple[Any, ...], dict[int, int]] = {}
    for stmt, b in ((edits, d.c.edit_bin), (waits, d.c.wait_bin)):
        for a, pk, pv, measure, found, n in session.execute(stmt.group_by(*key, b)):
            slot = bins.setdefault((a, pk, pv, measure), {})
            slot[int(found)] = slot.get(int(found), 0) + int(n)
    return counts, bins


def _raw_parts(session: Session, tenant_id: int, f: MetricsFilter) -> tuple[Any, Any, Any]:
    d = _drafts(session, tenant_id, f)
    key = (d.c.agent, d.c.pk, d.c.pv)
    # Literal SQL, not bound parameters: PostgreSQL must see GROUP BY and SELECT as equal.
    edited = func.coalesce(d.c.edit_distance, literal_column("0")) > literal_column("0")
    counts = session.execute(
        select(*key, d.c.status, edited, d.c.reason_code, func.count()).group_by(
            *key, d.c.status, edited, d.c.reason_code
        )
    ).all()
    distances = percentiles.grouped(
        session,
        select(*key, case((edited, d.c.edit_distance)).label("v")).where(d.c.status.in_(APPROVED)),
        groups=3,
        fractions=(0.5,),
    )
    waits = percentiles.grouped(
        session,
        select(*key, d.c.wait.label("v")).where(d.c.wait.is_not(None)),
        groups=3,
        fractions=(0.5, 0.95),
    )
    return counts, distances, waits


def outcomes(session: Session, tenant_id: int, f: MetricsFilter) -> list[ReviewOutcomes]:
    parts = hybrid.plan(session, tenant_id, f, rollups.for_reviews)
    if parts is not None and (not parts[1] or not f.filters_runs_by_call):
        counts, distances, waits = _rollup_parts(session, tenant_id, *parts)
    else:
        counts, distances, waits = _raw_parts(session, tenant_id, f)
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for agent, pk, pv, status, was_edited, reason, n in counts:
        row = rows.setdefault((agent, pk, pv), _empty())
        row["drafts"] += n
        if status in APPROVED:
            row["edited_then_approved" if was_edited else "approved_as_drafted"] += n
        elif status is ReviewStatus.REJECTED:
            row["rejected"] += n
            code = (reason or ReasonCode.OTHER).value
            row["rejected_by_reason"][code] = row["rejected_by_reason"].get(code, 0) + n
        elif status is ReviewStatus.EXPIRED:
            row["expired"] += n
        else:
            row["pending"] += n
    out = []
    for k in sorted(rows, key=lambda k: (k[0], k[1], k[2] if k[2] is not None else -1)):
        row = rows[k]
        approved = row["approved_as_drafted"] + row["edited_then_approved"]
        decided = approved + row["rejected"] + row["expired"]
        wait = waits.get(k, [None, None])
        out.append(
            ReviewOutcomes(
                agent=k[0],
                prompt_key=k[1],
                prompt_version=k[2],
                median_edit_distance=distances.get(k, [None])[0],
                approval_rate=approved / decided if decided else None,
                decision_p50_s=wait[0],
                decision_p95_s=wait[1],
                **row,
            )
        )
    return out


def _empty() -> dict[str, Any]:
    names = ("drafts", "approved_as_drafted", "edited_then_approved", "rejected", "expired")
    return {**dict.fromkeys(names, 0), "pending": 0, "rejected_by_reason": {}}


def rejection_reasons(rows: list[ReviewOutcomes]) -> dict[str, int]:
    """Rejections by reason code summed over every agent and prompt version."""
    total: dict[str, int] = {}
    for row in rows:
        for code, n in row.rejected_by_reason.items():
            total[code] = total.get(code, 0) + n
    return dict(sorted(total.items(), key=lambda kv: -kv[1]))


def get_review_outcomes(*, actor: Actor, filters: MetricsFilter) -> list[ReviewOutcomes]:
    """Review outcomes and time to decision per agent and prompt version."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        return outcomes(
            uow.session, actor.tenant_id, for_tenant(uow.session, actor.tenant_id, filters)
        )
