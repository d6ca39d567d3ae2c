"""Model pulls as background jobs in the console process: they go on when the admin leaves the
Models page, and the page shows their progress again on return (per tenant)."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from services.actor import Actor
from services.errors import InvalidInput
from services.llm import models
from services.llm.model_admin import model_name, server_kind
from services.permissions import Action, require

MAX_JOBS = 50


class PullJob(BaseModel):
    id: str
    tenant_id: int
    model: str
    status: str
    fraction: float | None = None
    done: bool = False
    error: str | None = None
    started_at: datetime


_JOBS: dict[str, PullJob] = {}
_JOBS_LOCK = threading.Lock()


def _set(job_id: str, **changes: Any) -> None:
    with _JOBS_LOCK:
        _JOBS[job_id] = _JOBS[job_id].model_copy(update=changes)


def _pull(actor: Actor, job_id: str, model: str) -> None:
    try:
        for part in models.pull_model(actor=actor, name=model):
            _set(job_id, status=part.status or "pulling", fraction=part.fraction)
        _set(job_id, status="success", fraction=1.0, done=True)
    except Exception as exc:  # the job reports its failure; the thread must not die silently
        message = getattr(exc, "message", None) or str(exc)
        _set(job_id, status="failed", error=str(message)[:500], done=True)


def start_pull(*, actor: Actor, name: str, now: datetime) -> PullJob:
    """Pull a model in the background (one job per model at a time); watch it with pull_jobs."""
    require(actor, Action.MANAGE_MODELS)
    model = model_name(name)
    if server_kind() == "openai":
        raise InvalidInput("This server speaks only the OpenAI API; it cannot pull models.")
    with _JOBS_LOCK:
        for job in _JOBS.values():
            if job.tenant_id == actor.tenant_id and job.model == model and not job.done:
                return job
        job = PullJob(
            id=uuid.uuid4().hex[:12],
            tenant_id=actor.tenant_id,
            model=model,
            status="starting",
            started_at=now,
        )
        _JOBS[job.id] = job
        finished = sorted((j for j in _JOBS.values() if j.done), key=lambda j: j.started_at)
        for old in finished[: max(0, len(_JOBS) - MAX_JOBS)]:
            del _JOBS[old.id]  # keep the registry small; finished pulls are in the audit log
    threading.Thread(
        target=_pull, args=(actor, job.id, model), daemon=True, name="revo-model-pull"
    ).start()
    return job


def pull_jobs(*, actor: Actor) -> list[PullJob]:
    """This tenant's pulls in this console process, newest first."""
    require(actor, Action.MANAGE_MODELS)
    with _JOBS_LOCK:
        jobs = [j for j in _JOBS.values() if j.tenant_id == actor.tenant_id]
    return sorted(jobs, key=lambda j: j.started_at, reverse=True)[:20]
