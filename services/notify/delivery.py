"""The delivery engine: workers lease due outbox rows, send them, record every attempt.

A claim is one short transaction: on PostgreSQL the due rows are locked ``FOR UPDATE SKIP
LOCKED`` so concurrent workers take disjoint batches; on SQLite the transaction begins
``IMMEDIATE`` and the claim is a conditional UPDATE. Sending happens outside any transaction
(a slow receiver holds no lock); the outcome is written only while the lease is still ours.
A failed send waits an exponential back-off (tenacity's schedule) and dead-letters after the
row's last attempt. A worker that dies mid-send leaves a lease that expires; the row is sent
again with the same ``webhook-id``, which is the receiver's key to drop the repeat.
"""

from __future__ import annotations

import base64
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session
from tenacity import RetryCallState, Retrying, wait_exponential

from domain.base import utcnow
from domain.enums import ChannelKind, OutboxStatus
from domain.models import (
    ApiSubmission,
    ApiToken,
    DeliveryAttempt,
    NotifyChannel,
    NotifyPreference,
    OutboxMessage,
    User,
)
from services import db
from services.config import get_settings
from services.errors import InvalidInput
from services.notify import crypto, senders
from services.notify.outbox import CALLBACK_KEY
from services.uow import UnitOfWork

S = OutboxStatus


@dataclass(frozen=True)
class Job:
    id: int
    tenant_id: int
    attempt: int
    max_attempts: int
    kind: ChannelKind | None
    target: str | None
    secret: str | None
    subject: str
    body: str
    payload: dict[str, Any]
    problem: str | None = None  # why it cannot be sent at all (no destination any more)


def backoff_s(attempt: int) -> float:
    """Seconds to wait after the given failed attempt (exponential, capped)."""
    settings = get_settings()
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    wait = wait_exponential(
        multiplier=settings.notify_retry_base_s, max=settings.notify_retry_max_s
    )
    return float(wait(state))


def _claimable(now: datetime) -> Any:
    return or_(
        and_(OutboxMessage.status == S.PENDING, OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == S.SENDING, OutboxMessage.lease_expires_at < now),
    )


def message_id(outbox_id: int) -> str:
    """The stable id a receiver sees on every attempt of one message (``webhook-id``)."""
    return f"msg_revo_{outbox_id}"


def deliver_due(*, worker_id: str, now: datetime, limit: int | None = None) -> int:
    """Claim, send and record one batch of due messages; returns how many were attempted."""
    jobs = _claim(worker_id, now, limit or get_settings().notify_batch)
    if not jobs:
        return 0
    outcomes = _send_all(jobs)
    with UnitOfWork(None) as uow:
        _record_all(uow.session, worker_id, outcomes, now)
        uow.commit()
    return len(jobs)


def drain(*, worker_id: str, now: datetime, rounds: int = 1000) -> int:
    """Deliver batches until nothing is due at ``now`` (tests and the benchmark)."""
    total = 0
    for _ in range(rounds):
        done = deliver_due(worker_id=worker_id, now=now)
        if not done:
            break
        total += done
    return total


def _claim(worker_id: str, now: datetime, limit: int) -> list[Job]:
    lease = timedelta(seconds=get_settings().notify_lease_s)
    with UnitOfWork(None) as uow:
        session = uow.session
        query = select(OutboxMessage.id).where(_claimable(now)).order_by(OutboxMessage.id)
        ids = list(
            session.scalars(db.row_locked(query.limit(limit), session, skip_locked=True)).all()
        )
        if not ids:
            return []
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), _claimable(now))
            .values(
                status=S.SENDING,
                lease_owner=worker_id,
                lease_expires_at=now + lease,
                attempts=OutboxMessage.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        rows = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.lease_owner == worker_id,
                OutboxMessage.status == S.SENDING,
            )
            .execution_options(populate_existing=True)
        ).all()
        jobs = [_job(session, row) for row in rows]
        uow.commit()
        return jobs


def _job(session: Session, row: OutboxMessage) -> Job:
    kind: ChannelKind | None = None
    target: str | None = None
    secret: str | None = None
    problem: str | None = None
    try:
        if row.channel_id is not None:
            channel = session.get(NotifyChannel, row.channel_id)
            if channel is None or not channel.is_active:
                problem = "the channel was switched off or removed"
            else:
                kind, target = channel.kind, crypto.decrypt(channel.target_enc)
                secret = crypto.decrypt(channel.secret_enc) if channel.secret_enc else None
        elif row.user_id is not None:
            kind, target, problem = _user_destination(session, row.user_id)
        elif isinstance(row.payload.get(CALLBACK_KEY), int):
            kind, target, secret, problem = _callback_destination(session, row)
        else:
            problem = "the message has no destination"
    except InvalidInput as exc:
        problem = exc.message
    return Job(
        id=row.id,
        tenant_id=row.tenant_id,
        attempt=row.attempts,
        max_attempts=row.max_attempts,
        kind=kind,
        target=target,
        secret=secret,
        subject=row.subject,
        body=row.body if not row.link else f"{row.body}\n\n{row.link}",
        payload=_webhook_payload(row),
        problem=problem,
    )


def _callback_destination(
    session: Session, row: OutboxMessage
) -> tuple[ChannelKind | None, str | None, str | None, str | None]:
    """The submitting agent's callback URL, and its signing secret: Standard Webhooks' whsec_
    form of the SHA-256 of the agent's own token (revo_client.callback_secret computes it)."""
    submission = session.get(ApiSubmission, row.payload[CALLBACK_KEY])
    if submission is None or not submission.callback_url:
        return None, None, None, "the submission and its callback are gone"
    token = session.get(ApiToken, submission.token_id) if submission.token_id else None
    if token is None or token.revoked_at is not None:
        return None, None, None, "the submitting token was revoked or removed"
    key = base64.b64encode(bytes.fromhex(token.secret_hash)).decode()
    return ChannelKind.WEBHOOK, submission.callback_url, senders.SECRET_PREFIX + key, None


def _user_destination(
    session: Session, user_id: int
) -> tuple[ChannelKind | None, str | None, str | None]:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None, None, "the recipient is no longer an active user"
    pref = session.get(NotifyPreference, user_id)
    if pref is None or pref.channel is ChannelKind.EMAIL or not pref.target_enc:
        return ChannelKind.EMAIL, user.email, None
    return pref.channel, crypto.decrypt(pref.target_enc), None


def _webhook_payload(row: OutboxMessage) -> dict[str, Any]:
    if row.payload.get("type"):  # an event webhook: its body was fixed when it was queued
        return {k: v for k, v in row.payload.items() if k != CALLBACK_KEY}
    data = {"subject": row.subject, "body": row.body, "link": row.link, **row.payload}
    return {"type": row.event, "timestamp": row.created_at.isoformat(), "data": data}


Outcome = tuple[Job, senders.SendResult, datetime, int]


def _send(job: Job) -> Outcome:
    started = utcnow()
    clock = time.perf_counter()
    result = _dispatch(job)
    return job, result, started, int((time.perf_counter() - clock) * 1000)


def _send_all(jobs: list[Job]) -> list[Outcome]:
    """Send a batch a few at a time (a slow receiver does not hold up the rest)."""
    workers = min(get_settings().notify_send_concurrency, len(jobs))
    if workers <= 1:
        return [_send(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="revo-notify") as pool:
        return list(pool.map(_send, jobs))


def _dispatch(job: Job) -> senders.SendResult:
    if job.problem is not None or job.target is None:
        return senders.SendResult(ok=False, error=job.problem or "no destination")
    if job.kind is ChannelKind.WEBHOOK:
        return senders.send_webhook(
            job.target,
            msg_id=message_id(job.id),
            timestamp=int(time.time()),
            payload=job.payload,
            secret=job.secret,
        )
    if job.kind is ChannelKind.APPRISE:
        return senders.send_apprise(job.target, subject=job.subject, body=job.body)
    return senders.send_email(job.target, subject=job.subject, body=job.body)


def _record_all(session: Session, worker_id: str, outcomes: list[Outcome], now: datetime) -> None:
    """Write the batch's attempts (one multi-row insert) and outcomes (one UPDATE per kind of
    success, one per failure), each only while the lease is still this worker's."""
    session.execute(
        insert(DeliveryAttempt),
        [
            {
                "tenant_id": job.tenant_id,
                "outbox_id": job.id,
                "attempt": job.attempt,
                "worker": worker_id[:200],
                "started_at": started,
                "duration_ms": duration_ms,
                "ok": result.ok,
                "status_code": result.status_code,
                "error": result.error,
            }
            for job, result, started, duration_ms in outcomes
        ],
    )
    ours = (OutboxMessage.lease_owner == worker_id, OutboxMessage.status == S.SENDING)
    released = {"lease_owner": None, "lease_expires_at": None}
    sent: dict[tuple[int | None, str | None], list[int]] = defaultdict(list)
    for job, result, _started, _ms in outcomes:
        if result.ok:
            sent[(result.status_code, result.error)].append(job.id)
            continue
        values: dict[str, Any] = {
            **released,
            "last_status_code": result.status_code,
            "last_error": result.error,
        }
        if job.problem is not None or job.attempt >= job.max_attempts:
            values["status"] = S.DEAD
        else:
            delay = timedelta(seconds=backoff_s(job.attempt))
            values.update(status=S.PENDING, next_attempt_at=now + delay)
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == job.id, *ours)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    sent_at = utcnow()
    for (code, note), ids in sent.items():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), *ours)
            .values(
                **released,
                status=S.SENT,
                sent_at=sent_at,
                last_status_code=code,
                last_error=note,
            )
            .execution_options(synchronize_session=False)
        )
