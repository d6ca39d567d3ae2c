"""Retry a failed or dead run, cancel a waiting one (minimal; to be folded into the run service)."""

from __future__ import annotations

from sqlalchemy import select

from domain import transitions
from domain.base import utcnow
from domain.enums import RunStatus
from domain.models import AgentRun
from services import audit
from services.actor import Actor
from services.errors import Conflict, InvalidTransition, NotFound
from services.metrics.drilldown import RunRow
from services.permissions import Action, require
from services.uow import UnitOfWork

RETRYABLE = (RunStatus.FAILED, RunStatus.DEAD)
CANCELLABLE = (RunStatus.QUEUED, RunStatus.RETRYING)
FIELDS = ["status", "attempts", "max_attempts", "next_attempt_at", "error"]


def _load(uow: UnitOfWork, actor: Actor, run_id: int, expected_version: int | None) -> AgentRun:
    run = uow.session.scalar(
        select(AgentRun).where(AgentRun.id == run_id, AgentRun.tenant_id == actor.tenant_id)
    )
    if run is None:
        raise NotFound(f"There is no run #{run_id} in your workspace.")
    if expected_version is not None and run.row_version != expected_version:
        raise Conflict(
            f"Run #{run_id} changed since you loaded it (it is now {run.status.value}). "
            "Reload and retry."
        )
    return run


def retry_run(*, actor: Actor, run_id: int, expected_version: int | None = None) -> RunRow:
    """Send a failed or dead run back to the worker now (a dead run gets one more attempt)."""
    require(actor, Action.MANAGE_RUNS)
    with UnitOfWork(actor) as uow:
        run = _load(uow, actor, run_id, expected_version)
        if run.status not in RETRYABLE:
            raise InvalidTransition(
                f"Run #{run_id} is {run.status.value}; only failed or dead runs can be retried."
            )
        before = audit.snapshot(run, FIELDS)
        run.status = transitions.agent_run(run.status, RunStatus.RETRYING)
        run.next_attempt_at = utcnow()
        run.max_attempts = max(run.max_attempts, run.attempts + 1)
        uow.session.flush()
        audit.record(
            uow,
            action="run.retried",
            entity_type="agent_run",
            entity_id=run.id,
            before=before,
            after=audit.snapshot(run, FIELDS),
        )
        uow.commit()
        return RunRow.model_validate(run)


def cancel_run(*, actor: Actor, run_id: int, expected_version: int | None = None) -> RunRow:
    """Cancel a run that is waiting for a worker (queued or waiting to retry)."""
    require(actor, Action.MANAGE_RUNS)
    with UnitOfWork(actor) as uow:
        run = _load(uow, actor, run_id, expected_version)
        if run.status not in CANCELLABLE:
            raise InvalidTransition(
                f"Run #{run_id} is {run.status.value}; only queued or retrying runs can be "
                "cancelled."
            )
        before = audit.snapshot(run, FIELDS)
        run.status = transitions.agent_run(run.status, RunStatus.CANCELLED)
        run.next_attempt_at = None
        uow.session.flush()
        audit.record(
            uow,
            action="run.cancelled",
            entity_type="agent_run",
            entity_id=run.id,
            before=before,
            after=audit.snapshot(run, FIELDS),
        )
        uow.commit()
        return RunRow.model_validate(run)


def can_retry(run: RunRow) -> bool:
    """Whether the run's status allows a retry (the page also checks the role)."""
    return run.status in {s.value for s in RETRYABLE}


def can_cancel(run: RunRow) -> bool:
    """Whether the run's status allows cancelling."""
    return run.status in {s.value for s in CANCELLABLE}
