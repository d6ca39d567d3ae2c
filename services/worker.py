"""Workers: claim runs with a lease, keep it alive with a heartbeat, drain the queue.

A claim is one short transaction. On PostgreSQL the candidate row is locked with
``FOR UPDATE SKIP LOCKED`` so concurrent workers pass over each other's rows; on SQLite the
transaction starts with ``BEGIN IMMEDIATE`` and the claim is a conditional UPDATE that only
succeeds while the row is still claimable. A worker that dies leaves a lease that expires; the
run is then claimed again (and its results, written atomically with the run's success, are
never written twice).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, or_, select, update

from domain import transitions
from domain.base import utcnow
from domain.enums import AgentName, RunStatus
from domain.models import AgentRun
from services import audit, audit_anchors, db, logs, schedule_firing
from services.config import get_settings
from services.errors import DatabaseUnavailable
from services.llm.client import get_client
from services.notify import events as notify_events
from services.notify import jobs as notify_jobs
from services.review.sweep import Sweep
from services.uow import UnitOfWork

log = logging.getLogger(__name__)
S = RunStatus


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
    uow.session.execute(
        update(AgentRun)
        .where(AgentRun.id == run.id, AgentRun.status == S.RUNNING)
        .values(
            status=S.DEAD,
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            error=f"The worker running attempt {run.attempts} stopped without finishing.",
            row_version=AgentRun.row_version + 1,
        )
        .execution_options(synchronize_session=False)
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
            claimed = uow.session.execute(
                update(AgentRun)
                .where(AgentRun.id == run.id, _claimable(now))
                .values(
                    status=S.RUNNING,
                    lease_owner=worker_id,
                    lease_expires_at=now + timedelta(seconds=lease_s),
                    heartbeat_at=now,
                    attempts=AgentRun.attempts + 1,
                    started_at=now,
                    next_attempt_at=None,
                    row_version=AgentRun.row_version + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
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
        result = uow.session.execute(
            update(AgentRun)
            .where(
                AgentRun.id == claim.run_id,
                AgentRun.lease_owner == claim.worker_id,
                AgentRun.status == S.RUNNING,
            )
            .values(
                lease_expires_at=now + timedelta(seconds=claim.lease_s),
                heartbeat_at=now,
                row_version=AgentRun.row_version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        uow.commit()
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


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


def run_worker(
    *,
    worker_id: str | None = None,
    once: bool = False,
    stop: threading.Event | None = None,
    lease_s: float | None = None,
    poll_s: float | None = None,
) -> int:
    """Claim and execute runs until stopped (``once``: until none is claimable or the model
    is unreachable)."""
    from services.agents.runner import WAITING, execute

    settings = get_settings()
    wid = worker_id or default_worker_id()
    lease = lease_s or settings.worker_lease_s
    poll = poll_s or settings.worker_poll_s
    halt = stop or threading.Event()
    logs.bind(worker=wid)
    sweep = Sweep(settings.review_sweep_s)
    schedules = schedule_firing.Ticker(wid)
    anchors = audit_anchors.Ticker()  # sign each chain head into a checkpoint + anchor line
    next_notify = 0.0
    done = 0
    while not halt.is_set():
        sweep.maybe_run()
        schedules.maybe_run()  # due schedule occurrences become queued runs, once each
        anchors.maybe_run()
        if time.monotonic() >= next_notify:  # the outbox, digests and alert rules
            next_notify = time.monotonic() + settings.notify_tick_s
            notify_jobs.tick(worker_id=wid, now=utcnow())
        if not once and get_client().breaker.is_open:
            halt.wait(poll)  # the model server is down: leave the runs queued meanwhile
            continue
        try:
            claim = claim_next(wid, lease)
        except DatabaseUnavailable:
            if once:
                raise
            log.warning("worker %s cannot reach the database; waiting", wid, exc_info=True)
            halt.wait(poll * 5)
            continue
        if claim is None:
            if once:
                break
            halt.wait(poll)
            continue
        outcome = execute(claim)
        done += 1
        if once and outcome == WAITING:
            break  # the model is unreachable: draining further would only spin
    return done


@dataclass(frozen=True)
class EmbeddedWorker:
    thread: threading.Thread
    stop: threading.Event


def _embedded_loop(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            run_worker(worker_id=f"embedded:{default_worker_id()}", stop=stop)
        except Exception:  # the console must outlive any worker failure; try again shortly
            log.exception("embedded worker crashed; restarting")
            stop.wait(5)


@lru_cache(maxsize=1)
def start_embedded_worker() -> EmbeddedWorker | None:
    """Start the console's in-process worker thread once per process (if the setting says so)."""
    if not get_settings().embedded_worker:
        return None
    stop = threading.Event()
    thread = threading.Thread(
        target=_embedded_loop, args=(stop,), daemon=True, name="revo-embedded-worker"
    )
    thread.start()
    return EmbeddedWorker(thread=thread, stop=stop)
