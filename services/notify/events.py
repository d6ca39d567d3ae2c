"""What the console tells people when review items and runs change, queued in the same
transaction as the change: reviewers' notifications by their preferences, and webhook
deliveries to the tenant's endpoints subscribed to the event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.enums import ChannelKind, OutboxStatus
from domain.models import ApiSubmission, ApiToken, NotifyChannel, ReviewItem, User
from services.config import get_settings
from services.notify import outbox, schedule
from services.notify.outbox import CALLBACK_KEY
from services.notify.prefs_model import USER_EVENTS, Pref, load_prefs

_LABELS = {
    "review.new": "New item to review",
    "review.second_approval": "Waiting for a second approver",
    "review.rejected": "Your item was rejected",
    "review.edited": "Your item was edited",
    "review.claim_lapsing": "Your claim is about to lapse",
    "review.sla_warning": "Item due soon",
}


def item_link(item_id: int) -> str:
    """The console address that opens one review item."""
    return f"{get_settings().console_url.rstrip('/')}/review_queue?item={item_id}"


def on_review(session: Session, item: ReviewItem, action: str, now: datetime) -> None:
    """Queue what one review change tells people and webhooks (in the caller's transaction)."""
    _webhooks(session, item, action, now)
    if action in CALLBACK_ACTIONS:
        _callback(session, item, action, now)
    if action == "review.submitted":
        _to_users(session, item, "review.new", _deciders(session, item), now)
    elif action == "review.first_approval":
        others = [u for u in _deciders(session, item) if u != item.first_approver_id]
        _to_users(session, item, "review.second_approval", others, now)
    elif action in ("review.rejected", "review.edited") and item.triggered_by_id is not None:
        event = "review.rejected" if action == "review.rejected" else "review.edited"
        _to_users(
            session, item, event, [item.triggered_by_id], now, key_extra=str(item.row_version)
        )


def on_deadline(session: Session, item: ReviewItem, event: str, now: datetime) -> None:
    """Queue a claim-lapsing or SLA-warning notice for one item (once per claim / due time)."""
    if event == "review.claim_lapsing" and item.claimed_by_id is not None:
        stamp = item.claim_expires_at.isoformat() if item.claim_expires_at else ""
        _to_users(session, item, event, [item.claimed_by_id], now, key_extra=stamp)
    elif event == "review.sla_warning":
        users = [item.claimed_by_id] if item.claimed_by_id else _deciders(session, item)
        _to_users(session, item, event, users, now, key_extra=item.due_at.isoformat())


def on_run_dead(
    session: Session, *, tenant_id: int, run_id: int, error: str, now: datetime
) -> None:
    """Queue the ``run.dead`` webhook for a run that will not be tried again."""
    data = {"run_id": run_id, "error": error[:500]}
    for channel in _subscribed(session, tenant_id, "run.dead"):
        outbox.enqueue(
            session,
            tenant_id=tenant_id,
            dedupe_key=f"wh{channel.id}:run.dead:{run_id}",
            event="run.dead",
            subject=f"Run #{run_id} is dead",
            body=error[:500],
            channel_id=channel.id,
            payload={"type": "run.dead", "timestamp": now.isoformat(), "data": data},
            now=now,
        )


def _subscribed(session: Session, tenant_id: int, event: str) -> list[NotifyChannel]:
    rows = session.scalars(
        select(NotifyChannel).where(
            NotifyChannel.tenant_id == tenant_id,
            NotifyChannel.kind == ChannelKind.WEBHOOK,
            NotifyChannel.is_active.is_(True),
        )
    ).all()
    return [row for row in rows if event in row.events]


# The decisions an agent that submitted an item over the API hears about at its callback URL.
CALLBACK_ACTIONS = frozenset(
    {
        "review.approved",
        "review.rejected",
        "review.expired",
        "review.executed",
        "review.execution_failed",
    }
)


def _callback(session: Session, item: ReviewItem, action: str, now: datetime) -> None:
    """The submitting agent's callback (POST /v1/reviews ``callback_url``), signed as a
    Standard Webhook with the SHA-256 of the agent's own token as the key."""
    submission = session.scalar(
        select(ApiSubmission).where(
            ApiSubmission.review_item_id == item.id, ApiSubmission.callback_url.is_not(None)
        )
    )
    if submission is None:
        return
    outbox.enqueue(
        session,
        tenant_id=item.tenant_id,
        dedupe_key=f"cb{submission.id}:{action}:{item.row_version}",
        event=action,
        subject=f"{action} #{item.id}",
        body=item.subject_label,
        link=item_link(item.id),
        payload={
            "type": action,
            "timestamp": now.isoformat(),
            "data": _event_data(item),
            CALLBACK_KEY: submission.id,
        },
        now=now,
    )


def _event_data(item: ReviewItem) -> dict[str, Any]:
    return {
        "item_id": item.id,
        "kind": item.kind.value,
        "status": item.status.value,
        "subject": item.subject_label,
        "amount": item.amount,
        "decided_by_id": item.decided_by_id,
        "reason_code": item.reason_code.value if item.reason_code else None,
        "run_id": item.run_id,
        "link": item_link(item.id),
    }


def _webhooks(session: Session, item: ReviewItem, action: str, now: datetime) -> None:
    channels = _subscribed(session, item.tenant_id, action)
    if not channels:
        return
    data = _event_data(item)
    for channel in channels:
        outbox.enqueue(
            session,
            tenant_id=item.tenant_id,
            dedupe_key=f"wh{channel.id}:{action}:{item.id}:{item.row_version}",
            event=action,
            subject=f"{action} #{item.id}",
            body=item.subject_label,
            channel_id=channel.id,
            link=item_link(item.id),
            payload={"type": action, "timestamp": now.isoformat(), "data": data},
            now=now,
        )


def _deciders(session: Session, item: ReviewItem) -> list[int]:
    from services.review import policy as policies  # the review package imports this module

    policy = policies.load(session, item.tenant_id)
    service_accounts = select(ApiToken.service_user_id).where(ApiToken.tenant_id == item.tenant_id)
    users = session.execute(
        select(User.id, User.role).where(
            User.tenant_id == item.tenant_id,
            User.is_active.is_(True),
            User.id.not_in(service_accounts),
        )
    ).all()
    return [uid for uid, role in users if item.kind in policy.kinds_for(role)]


def _to_users(
    session: Session,
    item: ReviewItem,
    event: str,
    user_ids: list[int],
    now: datetime,
    *,
    key_extra: str = "",
) -> None:
    if not user_ids:
        return
    prefs = load_prefs(session, item.tenant_id, user_ids)
    subject = f"{_LABELS[event]}: {item.kind.value.replace('_', ' ')} — {item.subject_label}"
    body = _body(item, event)
    for uid in dict.fromkeys(user_ids):
        pref = prefs.get(uid) or Pref.default()
        if event not in pref.events:
            continue
        status, not_before = _timing(pref, now)
        outbox.enqueue(
            session,
            tenant_id=item.tenant_id,
            dedupe_key=f"u{uid}:{event}:{item.id}:{key_extra}",
            event=event,
            subject=subject,
            body=body,
            user_id=uid,
            link=item_link(item.id),
            payload={"item_id": item.id, "kind": item.kind.value},
            status=status,
            not_before=not_before,
            now=now,
        )


def _body(item: ReviewItem, event: str) -> str:
    lines = [
        f"Review item #{item.id} ({item.kind.value.replace('_', ' ')}): {item.subject_label}",
        f"Status: {item.status.value}; due {item.due_at:%Y-%m-%d %H:%M} UTC.",
    ]
    if event == "review.rejected" and item.reason_code is not None:
        lines.append(f"Reason: {item.reason_code.value}. {item.comment or ''}".strip())
    if event == "review.claim_lapsing" and item.claim_expires_at is not None:
        lines.append(f"Your claim ends at {item.claim_expires_at:%H:%M} UTC; renew it to keep it.")
    return "\n".join(lines)


def _timing(pref: Pref, now: datetime) -> tuple[OutboxStatus, datetime | None]:
    if pref.digest:
        return OutboxStatus.HELD, None
    return OutboxStatus.PENDING, schedule.after_quiet_hours(pref, now)


__all__ = ["USER_EVENTS", "item_link", "on_deadline", "on_review", "on_run_dead"]
