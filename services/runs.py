"""The run queue as people use it: enqueue (idempotent), cancel, retry, list, look at one run."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from domain.base import utcnow
from domain.enums import AgentName as AgentName
from domain.enums import RunStatus as RunStatus
from domain.enums import RunTrigger
from domain.models import AgentRun
from domain.models import runs as runs_model
from services import audit
from services.actor import Actor
from services.agents.registry import AGENTS, subject_exists
from services.errors import Conflict, InvalidInput, NotFound
from services.permissions import Action, may_run, require, require_agent
from services.uow import UnitOfWork

# Read off the run transition table, so the buttons and the checks never disagree with it.
CANCELLABLE = runs_model.CANCELLABLE
RETRYABLE = runs_model.RETRYABLE
AUDITED = ["status", "attempts", "max_attempts", "next_attempt_at", "lease_owner", "error"]


class RunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    agent: AgentName
    trigger: RunTrigger
    subject_type: str
    subject_id: int
    idempotency_key: str
    status: RunStatus
    attempts: int
    max_attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    next_attempt_at: datetime | None
    error: str | None
    triggered_by_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None


def _by_key(uow: UnitOfWork, key: str) -> AgentRun | None:
    return uow.session.scalar(select(AgentRun).where(AgentRun.idempotency_key == key))


def enqueue(
    *,
    actor: Actor,
    agent: AgentName,
    subject_id: int,
    idempotency_key: str | None = None,
    trigger: RunTrigger = RunTrigger.MANUAL,
    max_attempts: int = 3,
) -> RunRead:
    """Queue a run of an agent on a subject; the same idempotency key returns the same run."""
    require_agent(actor, agent)
    if not 1 <= max_attempts <= 10:
        raise InvalidInput("A run may be attempted between 1 and 10 times.")
    key = (idempotency_key or f"{agent.value}:{subject_id}:{uuid.uuid4().hex}").strip()
    if not key or len(key) > 200:
        raise InvalidInput("The idempotency key must be 1 to 200 characters.")
    try:
        with UnitOfWork(actor) as uow:
            existing = _by_key(uow, key)
            if existing is not None:
                return RunRead.model_validate(existing)
            spec = AGENTS[agent]
            if not subject_exists(uow.session, spec.subject_type, subject_id):
                raise NotFound(f"There is no {spec.subject_type} #{subject_id} to run {agent} on.")
            run = AgentRun(
                tenant_id=actor.tenant_id,
                agent=agent,
                trigger=trigger,
                subject_type=spec.subject_type,
                subject_id=subject_id,
                idempotency_key=key,
                status=RunStatus.QUEUED,
                attempts=0,
                max_attempts=max_attempts,
                triggered_by_id=actor.user_id,
            )
            uow.session.add(run)
            uow.session.flush()
            audit.record(
                uow,
                action="run.enqueued",
                entity_type="agent_run",
                entity_id=run.id,
                after={"agent": agent.value, "subject_id": subject_id, "key": key},
            )
            uow.commit()
            return RunRead.model_validate(run)
    except Conflict:
        # Someone enqueued the same key between our read and our insert: theirs is ours.
        with UnitOfWork(actor, readonly=True) as uow:
            winner = _by_key(uow, key)
            if winner is None:
                raise
            return RunRead.model_validate(winner)


def _load(uow: UnitOfWork, actor: Actor, run_id: int, expected_version: int | None) -> AgentRun:
    run = uow.get(AgentRun, run_id, missing=f"Run #{run_id} does not exist.")
    require_agent(actor, run.agent)  # who may start an agent's runs may stop or retry them
    if expected_version is not None and run.row_version != expected_version:
        raise Conflict(
            f"Run #{run_id} changed since you loaded it (it is now {run.status.value}). "
            "Reload and retry."
        )
    return run


def _change(
    actor: Actor,
    run_id: int,
    expected_version: int | None,
    action: str,
    change: Callable[[AgentRun, datetime], None],
    reason: str | None = None,
) -> RunRead:
    """Load the run (permission, version), change it, audit before/after, commit once."""
    with UnitOfWork(actor) as uow:
        run = _load(uow, actor, run_id, expected_version)
        before = audit.snapshot(run, AUDITED)
        change(run, utcnow())
        uow.session.flush()
        audit.record(
            uow,
            action=action,
            entity_type="agent_run",
            entity_id=run.id,
            before=before,
            after=audit.snapshot(run, AUDITED),
            reason=reason,
        )
        uow.commit()
        return RunRead.model_validate(run)


def cancel(
    *, actor: Actor, run_id: int, expected_version: int | None = None, reason: str | None = None
) -> RunRead:
    """Cancel a queued, retrying or running run; a running one's results are discarded."""
    return _change(actor, run_id, expected_version, "run.cancelled", AgentRun.cancel, reason)


def retry(*, actor: Actor, run_id: int, expected_version: int | None = None) -> RunRead:
    """Send a failed or dead run back to the workers now (a dead run gets one more attempt)."""
    return _change(actor, run_id, expected_version, "run.retried", AgentRun.retry)


def can_retry(*, actor: Actor, agent: AgentName, status: RunStatus) -> bool:
    """Whether the actor may retry a run of this agent in this status (pages show the button)."""
    return status in RETRYABLE and may_run(actor, agent)


def can_cancel(*, actor: Actor, agent: AgentName, status: RunStatus) -> bool:
    """Whether the actor may cancel a run of this agent in this status."""
    return status in CANCELLABLE and may_run(actor, agent)


def get_run(*, actor: Actor, run_id: int) -> RunRead:
    """One run of the actor's tenant."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        run = uow.get(AgentRun, run_id, missing=f"Run #{run_id} does not exist.")
        return RunRead.model_validate(run)


def list_runs(*, actor: Actor, status: RunStatus | None = None, limit: int = 50) -> list[RunRead]:
    """The tenant's most recent runs, newest first."""
    require(actor, Action.VIEW_METRICS)
    with UnitOfWork(actor, readonly=True) as uow:
        query = select(AgentRun).order_by(AgentRun.id.desc()).limit(max(1, min(limit, 500)))
        if status is not None:
            query = query.where(AgentRun.status == status)
        return [RunRead.model_validate(r) for r in uow.session.scalars(query)]
