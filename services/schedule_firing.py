"""Workers fire due schedule occurrences exactly once, however many of them run.

A worker locks one due schedule (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite writers queue
behind ``BEGIN IMMEDIATE``), inserts the occurrence into ``schedule_firings`` (unique per
schedule and occurrence), queues the runs (idempotency key per occurrence and subject), moves
``next_fire_at`` past now and commits once. A second worker that sees the same occurrence either
skips the locked row, finds ``next_fire_at`` already moved, or loses on the unique key.

Catch-up after downtime: only the latest missed occurrence fires, once; the older ones are
skipped and counted on the firing (a week of missed daily dunning runs must not send seven).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.base import utcnow
from domain.enums import (
    AgentName,
    DealStage,
    InvestigationStatus,
    InvoiceStatus,
    LeadStatus,
    RunStatus,
    RunTrigger,
)
from domain.models import AgentRun, Deal, Investigation, Invoice, Lead, Schedule, ScheduleFiring
from services import audit, db
from services.agents.registry import AGENTS
from services.schedules import ScheduleSelection, latest_until, next_after
from services.uow import UnitOfWork

log = logging.getLogger(__name__)
TICK_S = 20.0  # how often each worker looks for due occurrences
MAX_SKIP_COUNT = 10_000  # counting skipped occurrences stops here (a minutely cron, a week down)


class FireResult(BaseModel):
    fired: int = 0
    skipped: int = 0
    runs: int = 0
    lost: int = 0  # occurrences another worker fired first


def _subjects(session: Session, row: Schedule, now: datetime) -> list[int]:
    """The subject ids of the schedule's tenant that this occurrence runs on."""
    sel = ScheduleSelection.model_validate(row.selection)
    t = row.tenant_id
    query: Any
    if row.agent is AgentName.FINANCE:
        due_before = now.date() - timedelta(days=sel.overdue_days)
        query = select(Invoice.id).where(
            Invoice.tenant_id == t,
            Invoice.status.in_([InvoiceStatus.ISSUED, InvoiceStatus.OVERDUE]),
            Invoice.due_date <= due_before,
        )
    elif row.agent is AgentName.SDR:
        status = LeadStatus(sel.status) if sel.status else LeadStatus.NEW
        query = select(Lead.id).where(
            Lead.tenant_id == t, Lead.status == status, Lead.do_not_contact.is_(False)
        )
    elif row.agent is AgentName.INVESTIGATOR:
        open_ = [InvestigationStatus.OPEN, InvestigationStatus.IN_PROGRESS]
        query = select(Investigation.id).where(
            Investigation.tenant_id == t, Investigation.status.in_(open_)
        )
    else:
        default = DealStage.PROPOSAL if row.agent is AgentName.SALES else DealStage.NEGOTIATION
        stage = DealStage(sel.status) if sel.status else default
        query = select(Deal.id).where(Deal.tenant_id == t, Deal.stage == stage)
    return list(session.scalars(query.order_by("id").limit(sel.limit)))


def _skipped(row: Schedule, occurrence: datetime) -> int:
    """How many occurrences between the one that was due and the one that fires are skipped."""
    n, at = 0, row.next_fire_at
    while at is not None and at < occurrence and n < MAX_SKIP_COUNT:
        n += 1
        at = next_after(row.cron, row.timezone, at)
    return n


def _fire_one(session: Session, row: Schedule, now: datetime, worker_id: str) -> tuple[int, int]:
    occurrence = latest_until(row.cron, row.timezone, now)
    skipped = _skipped(row, occurrence)
    subjects = _subjects(session, row, now)
    firing = ScheduleFiring(
        tenant_id=row.tenant_id,
        schedule_id=row.id,
        occurrence_at=occurrence,
        skipped=skipped,
        runs_enqueued=len(subjects),
        worker_id=worker_id,
        created_at=now,
    )
    with session.begin_nested():
        session.add(firing)
        session.flush()  # the unique occurrence key: a second firing fails here
    stamp = f"{occurrence:%Y%m%dT%H%MZ}"
    for subject_id in subjects:
        session.add(
            AgentRun(
                tenant_id=row.tenant_id,
                agent=row.agent,
                trigger=RunTrigger.SCHEDULE,
                subject_type=AGENTS[row.agent].subject_type,
                subject_id=subject_id,
                idempotency_key=f"schedule:{row.id}:{stamp}:{subject_id}",
                status=RunStatus.QUEUED,
                attempts=0,
                max_attempts=3,
                triggered_by_id=row.created_by_id,  # the owner: no self-approval of its drafts
            )
        )
    row.last_fired_at, row.last_occurrence_at = now, occurrence
    row.next_fire_at = next_after(row.cron, row.timezone, now)
    session.flush()
    return skipped, len(subjects)


def _advance(schedule_id: int, cron: str, tz: str, *, now: datetime) -> None:
    """Move a schedule whose occurrence was already fired past ``now`` (never fire it twice)."""
    with UnitOfWork(None) as uow:
        uow.update_guarded(
            Schedule,
            Schedule.id == schedule_id,
            Schedule.next_fire_at <= now,
            next_fire_at=next_after(cron, tz, now),
        )
        uow.commit()


def _fire_locked(uow: UnitOfWork, row: Schedule, now: datetime, worker_id: str) -> FireResult:
    skipped, runs = _fire_one(uow.session, row, now, worker_id)
    audit.record(
        uow,
        action="schedule.fired",
        entity_type="schedule",
        entity_id=row.id,
        after={
            "occurrence": row.last_occurrence_at.isoformat() if row.last_occurrence_at else None,
            "skipped": skipped,
            "runs": runs,
            "worker": worker_id,
        },
        tenant_id=row.tenant_id,
    )
    uow.commit()
    return FireResult(fired=1, skipped=skipped, runs=runs)


def fire_due(*, now: datetime, worker_id: str, max_schedules: int = 100) -> FireResult:
    """Fire every schedule whose next occurrence is at or before ``now`` (system work)."""
    total = FireResult()
    for _ in range(max_schedules):
        stale: tuple[int, str, str] | None = None
        with UnitOfWork(None) as uow:
            query = (
                select(Schedule)
                .where(Schedule.enabled.is_(True), Schedule.next_fire_at <= now)
                .order_by(Schedule.next_fire_at, Schedule.id)
                .limit(1)
                .execution_options(populate_existing=True)
            )
            row = uow.session.scalar(db.row_locked(query, uow.session, skip_locked=True))
            if row is None:
                return total
            key = (row.id, row.cron, row.timezone)
            try:
                one = _fire_locked(uow, row, now, worker_id)
            except IntegrityError:  # this occurrence was fired already: lose, never repeat
                total.lost += 1
                stale = key
            else:
                total.fired += one.fired
                total.skipped += one.skipped
                total.runs += one.runs
        if stale is not None:
            _advance(*stale, now=now)
    return total


def tick(worker_id: str) -> str | None:
    """Fire what is due now (the worker's periodic job); a summary when anything fired."""
    fired = fire_due(now=utcnow(), worker_id=worker_id)
    if not fired.fired:
        return None
    return f"fired {fired.fired} schedule occurrence(s), {fired.runs} run(s)"
