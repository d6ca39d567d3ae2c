"""The run lease: claim a queued run for one worker, keep the lease alive, know whose it is.

A claim is one short transaction. On PostgreSQL the candidate row is locked with
``FOR UPDATE SKIP LOCKED`` so concurrent workers pass over each other's rows; on SQLite the
transaction starts with ``BEGIN IMMEDIATE`` and the claim is a conditional UPDATE that only
succeeds while the row is still claimable. A worker that dies leaves a lease that expires; the
run is then claimed again (and its results, written atomically with the run's success, are
never written twice). The worker loop (services.worker) and the run executor
(services.agents.runner) both speak this protocol; neither imports the other's side of it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import and_, or_, select

from domain import transitions
from domain.base import utcnow
from domain.enums import AgentName, RunStatus
from domain.models import AgentRun
from services import audit, db
from services.notify import events as notify_events
from services.uow import UnitOfWork

log = logging.getLogger(__name__)
S = RunStatus


class Waiting(Enum):
    """A run's answer when it gave its lease back to wait for an unreachable model (its status
    is retrying, its attempt not used up): the worker stops draining instead of spinning."""

    FOR_MODEL = "waiting"


@dataclass(frozen=True)
class Claim:
    run_id: int
    tenant_id: int
    agent: AgentName
    subject_id: int
    attempts: int
    max_attempts: int
    triggered_by_id: int | None
    worker_id: str
    lease_s: float


def default_worker_id() -> str:
    """This thread's worker id, as leases show it: host:pid:thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident() % 100_000}"


def _claimable(now: datetime) -> Any:
    return or_(
        and_(
            AgentRun.status.in_([S.QUEUED, S.RETRYING]),
            or_(AgentRun.next_attempt_at.is_(None), AgentRun.next_attempt_at <= now),
        ),
        and_(AgentRun.status == S.RUNNING, AgentRun.lease_expires_at < now),
    )


def _bury_lost(uow: UnitOfWork, run: Any, now: datetime) -> None:
    """A run whose lease expired after its last allowed attempt is dead, not claimed again."""
    transitions.agent_run(transitions.agent_run(S.RUNNING, S.FAILED), S.DEAD)
    uow.update_guarded(
        AgentRun,
        AgentRun.id == run.id,
        AgentRun.status == S.RUNNING,
        status=S.DEAD,
        lease_owner=None,
        lease_expires_at=None,
        finished_at=now,
        error=f"The worker running attempt {run.attempts} stopped without finishing.",
    )
    audit.record(
        uow,
        action="run.dead",
        entity_type="agent_run",
        entity_id=run.id,
        after={"reason": "lease expired on the last attempt"},
        tenant_id=run.tenant_id,
    )
    notify_events.on_run_dead(
        uow.session, tenant_id=run.tenant_id, run_id=run.id, error="lease expired", now=now
    )


def claim_next(worker_id: str, lease_s: float) -> Claim | None:
    """Claim the oldest claimable run for this worker, or None when there is nothing to do."""
    for _ in range(5):  # a lost race or a buried run: look again, a few times
        now = utcnow()
        with UnitOfWork(None) as uow:
            query = (
                select(AgentRun)
                .where(_claimable(now))
                .order_by(AgentRun.id)
                .limit(1)
                .execution_options(populate_existing=True)
            )
            run = uow.session.scalar(db.row_locked(query, uow.session, skip_locked=True))
            if run is None:
                return None
            current = run.status
            if current is S.RUNNING:  # its lease expired: back to the pool, then to us
                if run.attempts >= run.max_attempts:
                    _bury_lost(uow, run, now)
                    uow.commit()
                    continue
                current = transitions.agent_run(current, S.QUEUED)
            transitions.agent_run(current, S.RUNNING)
            claimed = uow.update_guarded(
                AgentRun,
                AgentRun.id == run.id,
                _claimable(now),
                status=S.RUNNING,
                lease_owner=worker_id,
                lease_expires_at=now + timedelta(seconds=lease_s),
                heartbeat_at=now,
                attempts=AgentRun.attempts + 1,
                started_at=now,
                next_attempt_at=None,
            )
            if claimed != 1:
                continue
            audit.record(
                uow,
                action="run.claimed",
                entity_type="agent_run",
                entity_id=run.id,
                before={"status": run.status.value},
                after={"status": S.RUNNING.value, "worker": worker_id, "attempt": run.attempts + 1},
                tenant_id=run.tenant_id,
            )
            uow.commit()
            return Claim(
                run_id=run.id,
                tenant_id=run.tenant_id,
                agent=run.agent,
                subject_id=run.subject_id,
                attempts=run.attempts + 1,
                max_attempts=run.max_attempts,
                triggered_by_id=run.triggered_by_id,
                worker_id=worker_id,
                lease_s=lease_s,
            )
    return None


def heartbeat(claim: Claim) -> bool:
    """Extend the lease; False when the run is no longer ours (cancelled, or reclaimed)."""
    now = utcnow()
    with UnitOfWork(None) as uow:
        result = uow.update_guarded(
            AgentRun,
            AgentRun.id == claim.run_id,
            AgentRun.lease_owner == claim.worker_id,
            AgentRun.status == S.RUNNING,
            lease_expires_at=now + timedelta(seconds=claim.lease_s),
            heartbeat_at=now,
        )
        uow.commit()
        return result == 1


class Heartbeat:
    """Beats every third of the lease in a background thread while a run executes."""

    def __init__(self, claim: Claim) -> None:
        self.claim = claim
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="revo-heartbeat")

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.claim.lease_s / 3):
            try:
                if not heartbeat(self.claim):
                    self.lost = True
                    return
            except Exception:  # a missed beat is survivable; the next one may get through
                log.warning("heartbeat of run %s failed", self.claim.run_id, exc_info=True)
