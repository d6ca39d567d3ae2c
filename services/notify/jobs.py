"""The workers' periodic notification jobs: deadline notices, daily digests, then delivery."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import select, update

from domain.enums import DigestMode, OutboxStatus, ReviewStatus
from domain.models import NotifyPreference, OutboxMessage, ReviewItem
from services import db
from services.config import get_settings
from services.errors import ServiceError
from services.notify import alerts, delivery, events, outbox, schedule
from services.notify.prefs_model import Pref
from services.uow import UnitOfWork

log = logging.getLogger(__name__)
BATCH = 500


def scan_deadlines(*, now: datetime) -> int:
    """Queue claim-lapsing and SLA-warning notices for items entering their warning windows
    (each once per claim / due time: the outbox key makes repeats no-ops)."""
    settings = get_settings()
    claim_by = now + timedelta(minutes=settings.notify_claim_warning_minutes)
    due_by = now + timedelta(minutes=settings.notify_sla_warning_minutes)
    with UnitOfWork(None) as uow:
        session = uow.session
        pending = ReviewItem.status == ReviewStatus.PENDING
        lapsing = session.scalars(
            select(ReviewItem)
            .where(
                pending, ReviewItem.claim_expires_at > now, ReviewItem.claim_expires_at <= claim_by
            )
            .order_by(ReviewItem.id)
            .limit(BATCH)
        ).all()
        due = session.scalars(
            select(ReviewItem)
            .where(pending, ReviewItem.due_at > now, ReviewItem.due_at <= due_by)
            .order_by(ReviewItem.id)
            .limit(BATCH)
        ).all()
        for item in lapsing:
            events.on_deadline(session, item, "review.claim_lapsing", now)
        for item in due:
            events.on_deadline(session, item, "review.sla_warning", now)
        uow.commit()
    return len(lapsing) + len(due)


def build_digests(*, now: datetime) -> int:
    """Roll each digest user's held notifications into one message at their local digest hour."""
    built = 0
    with UnitOfWork(None) as uow:
        session = uow.session
        rows = session.scalars(
            db.row_locked(
                select(NotifyPreference).where(NotifyPreference.mode == DigestMode.DIGEST),
                session,
                skip_locked=True,
            )
        ).all()
        for row in rows:
            day = schedule.digest_due(Pref.of(row), now, row.last_digest_on)
            if day is None:
                continue
            row.last_digest_on = day
            held = session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.user_id == row.user_id, OutboxMessage.status == OutboxStatus.HELD
                )
                .order_by(OutboxMessage.id)
            ).all()
            if not held:
                continue
            lines = [f"- {m.subject}\n  {m.link or ''}".rstrip() for m in held]
            digest = outbox.enqueue(
                session,
                tenant_id=row.tenant_id,
                dedupe_key=f"digest:{row.user_id}:{day}",
                event="digest",
                subject=f"Your Revo Console digest for {day}: {len(held)} notification(s)",
                body="\n".join(lines),
                user_id=row.user_id,
                payload={"count": len(held), "day": day},
                now=now,
            )
            if digest is None:
                continue
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([m.id for m in held]))
                .values(status=OutboxStatus.DIGESTED, digest_id=digest.id)
                .execution_options(synchronize_session=False)
            )
            built += 1
        uow.commit()
    return built


_next_run: dict[str, float] = {}
SLOW_JOB_S = 60.0  # deadline scans and digests are minute-grained; alert rules keep their own


def tick(*, worker_id: str, now: datetime) -> int:
    """One round of notification work for a worker; returns messages attempted."""
    clock = time.monotonic()
    for job, every in (
        (scan_deadlines, SLOW_JOB_S),
        (build_digests, SLOW_JOB_S),
        (alerts.evaluate_due, 0.0),
    ):
        if clock < _next_run.get(job.__name__, 0.0):
            continue
        _next_run[job.__name__] = clock + every
        try:
            job(now=now)
        except ServiceError as exc:  # a busy database or a lost race: the next tick gets it
            log.warning("notification job %s failed: %s", job.__name__, exc.message)
        except Exception:  # notifications must never stop a worker from running agents
            log.exception("notification job %s crashed", job.__name__)
    try:
        return delivery.deliver_due(worker_id=worker_id, now=now)
    except ServiceError as exc:
        log.warning("notification delivery failed: %s", exc.message)
    except Exception:
        log.exception("notification delivery crashed")
    return 0
