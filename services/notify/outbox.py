"""Writing to the outbox: in the caller's transaction, once per stable key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.enums import OutboxStatus
from domain.models import OutboxMessage
from services.config import get_settings

MAX_SUBJECT = 300
MAX_BODY = 20_000


# A payload key naming the API submission whose callback_url a message goes to.
CALLBACK_KEY = "callback_submission"


def enqueue(
    session: Session,
    *,
    tenant_id: int,
    dedupe_key: str,
    event: str,
    subject: str,
    body: str,
    now: datetime,
    channel_id: int | None = None,
    user_id: int | None = None,
    link: str | None = None,
    payload: dict[str, Any] | None = None,
    status: OutboxStatus = OutboxStatus.PENDING,
    not_before: datetime | None = None,
) -> OutboxMessage | None:
    """Queue one message in the session's transaction; None when its key is already queued."""
    key = dedupe_key[:200]
    exists = session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.tenant_id == tenant_id, OutboxMessage.dedupe_key == key
        )
    )
    if exists is not None:
        return None
    message = OutboxMessage(
        tenant_id=tenant_id,
        dedupe_key=key,
        event=event[:64],
        channel_id=channel_id,
        user_id=user_id,
        subject=_clean(subject)[:MAX_SUBJECT],
        body=_clean(body)[:MAX_BODY],
        link=link,
        payload=payload or {},
        status=status,
        attempts=0,
        max_attempts=get_settings().notify_max_attempts,
        next_attempt_at=not_before or now,
        created_at=now,
    )
    try:
        with session.begin_nested():  # a concurrent writer of the same key wins; we skip
            session.add(message)
            session.flush()
    except IntegrityError:
        return None
    return message


def _clean(text: str) -> str:
    """No NUL bytes (PostgreSQL refuses them in text) and no other control characters but
    newlines and tabs."""
    return "".join(ch for ch in text if ch in "\n\t" or ord(ch) >= 32)
