"""/v1/agents/{name}/run and /v1/runs: enqueue, list, read with LLM calls, retry, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field

from api.auth import scoped
from api.params import RowId
from services import run_pages, runs
from services.actor import Actor
from services.api_tokens import Scope
from services.metrics.drilldown import RunDetail, get_run_detail
from services.run_pages import RunPage
from services.runs import AgentName, RunRead, RunStatus

router = APIRouter(prefix="/v1", tags=["runs"])
Writer = Annotated[Actor, Depends(scoped(Scope.RUNS_WRITE))]
Reader = Annotated[Actor, Depends(scoped(Scope.RUNS_READ))]


class RunCreate(BaseModel):
    subject_id: int = Field(ge=1)
    max_attempts: int = Field(default=3, ge=1, le=10)


class RunChange(BaseModel):
    expected_version: int | None = Field(default=None, ge=0, le=2**31 - 1)
    reason: str | None = Field(default=None, max_length=2000)


@router.post("/agents/{agent}/run", response_model=RunRead, status_code=202)
def enqueue_run(
    agent: AgentName,
    run_in: RunCreate,
    actor: Writer,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> RunRead:
    """Queue a run of the agent; the same Idempotency-Key returns the same run (as `revo run`)."""
    return runs.enqueue(
        actor=actor,
        agent=agent,
        subject_id=run_in.subject_id,
        idempotency_key=idempotency_key,
        max_attempts=run_in.max_attempts,
    )


@router.get("/runs", response_model=RunPage)
def list_runs(
    actor: Reader,
    status: RunStatus | None = None,
    agent: AgentName | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> RunPage:
    """The tenant's runs, newest first; follow ``next_cursor`` for more."""
    return run_pages.list_page(actor=actor, status=status, agent=agent, cursor=cursor, limit=limit)


@router.get("/runs/{run_id}", response_model=RunDetail)
def get_run(run_id: RowId, actor: Reader) -> RunDetail:
    """One run with its LLM calls and the review items it produced."""
    return get_run_detail(actor=actor, run_id=run_id)


@router.post("/runs/{run_id}/retry", response_model=RunRead)
def retry_run(run_id: RowId, actor: Writer, change: RunChange | None = None) -> RunRead:
    """Send a failed or dead run back to the workers."""
    version = change.expected_version if change else None
    return runs.retry(actor=actor, run_id=run_id, expected_version=version)


@router.post("/runs/{run_id}/cancel", response_model=RunRead)
def cancel_run(run_id: RowId, actor: Writer, change: RunChange | None = None) -> RunRead:
    """Cancel a queued, retrying or running run."""
    return runs.cancel(
        actor=actor,
        run_id=run_id,
        expected_version=change.expected_version if change else None,
        reason=change.reason if change else None,
    )
