"""The recent-runs table, one run's LLM calls and review items, and the table as CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from domain.enums import LLMOutcome
from domain.models import AgentRun, LLMCall, ReviewItem, User
from services.actor import Actor
from services.errors import NotFound
from services.metrics.filters import MetricsFilter, run_where, tune
from services.permissions import Action, require
from services.spreadsheet import neutralise
from services.uow import UnitOfWork

RECENT_RUNS_LIMIT = 200
FAILED_OUTCOMES = (LLMOutcome.INVALID, LLMOutcome.TIMEOUT, LLMOutcome.UNAVAILABLE, LLMOutcome.ERROR)
# A spreadsheet runs a cell that starts with one of these as a formula.


class RunRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    agent: str
    trigger: str
    status: str
    attempts: int
    max_attempts: int
    subject_type: str
    subject_id: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    error: str | None
    row_version: int


class LLMCallRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    model: str
    prompt_key: str
    prompt_version: int
    mode: str
    outcome: str
    latency_ms: int
    prompt_tokens: int
    completion_tokens: int
    attempts: int
    reasks: int
    repaired: bool
    error: str | None
    raw_output: str | None = None


class ReviewDecisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: str
    subject_label: str
    created_at: datetime
    decided_at: datetime | None
    reason_code: str | None
    edit_distance: int | None
    comment: str | None
    decided_by: str | None = None  # the person's display name


class RunDetail(BaseModel):
    run: RunRow
    calls: list[LLMCallRead]
    review_items: list[ReviewDecisionRead]


def _recent(uow: UnitOfWork, tenant_id: int, f: MetricsFilter, limit: int) -> list[RunRow]:
    rows = uow.session.scalars(
        select(AgentRun)
        .where(*run_where(tenant_id, f))
        .order_by(AgentRun.created_at.desc(), AgentRun.id.desc())
        .limit(limit)
    ).all()
    return [RunRow.model_validate(r) for r in rows]


def list_recent_runs(
    *, actor: Actor, filters: MetricsFilter, limit: int = RECENT_RUNS_LIMIT
) -> list[RunRow]:
    """The newest runs matching the filter (at most ``limit``), newest first."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        return _recent(uow, actor.tenant_id, filters, max(1, min(limit, 1000)))


def get_run_detail(*, actor: Actor, run_id: int) -> RunDetail:
    """One run with its LLM calls (raw output of failed calls) and the review items it produced."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        run = uow.session.scalar(
            select(AgentRun).where(AgentRun.id == run_id, AgentRun.tenant_id == actor.tenant_id)
        )
        if run is None:
            raise NotFound(f"There is no run #{run_id} in your workspace.")
        calls = uow.session.scalars(
            select(LLMCall).where(LLMCall.run_id == run_id).order_by(LLMCall.created_at, LLMCall.id)
        ).all()
        items = uow.session.execute(
            select(ReviewItem, User.display_name)
            .outerjoin(User, User.id == ReviewItem.decided_by_id)
            .where(ReviewItem.run_id == run_id)
            .order_by(ReviewItem.id)
        ).all()
        call_rows = []
        for call in calls:
            row = LLMCallRead.model_validate(call)
            # Raw output only matters (and is only kept on screen) when the call failed.
            if call.outcome not in FAILED_OUTCOMES:
                row.raw_output = None
            call_rows.append(row)
        return RunDetail(
            run=RunRow.model_validate(run),
            calls=call_rows,
            review_items=[
                ReviewDecisionRead.model_validate(item).model_copy(update={"decided_by": who})
                for item, who in items
            ],
        )


CSV_COLUMNS = (
    "id",
    "agent",
    "trigger",
    "status",
    "attempts",
    "created_at",
    "duration_ms",
    "subject_type",
    "subject_id",
    "error",
)


def runs_csv(rows: list[RunRow]) -> str:
    """The runs table as CSV text with every cell neutralised against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        data = row.model_dump()
        writer.writerow([neutralise(data[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def export_recent_runs_csv(*, actor: Actor, filters: MetricsFilter) -> str:
    """The recent-runs table for the filter as formula-safe CSV."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        tune(uow.session)
        return runs_csv(_recent(uow, actor.tenant_id, filters, RECENT_RUNS_LIMIT))
