"""Loading, locking, version checks and audited transitions of review items (internal)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from domain.base import utcnow
from domain.enums import ReviewStatus
from domain.models import AuditEntry, ReviewItem, User
from domain.review_policy import ReviewPolicy
from services import audit, db
from services.actor import Actor
from services.errors import Conflict, NotFound
from services.notify import events as notify_events
from services.review import policy as policies
from services.review.schemas import ReviewItemRead
from services.uow import UnitOfWork

ENTITY = "review_item"
AUDIT_FIELDS = [
    "status",
    "row_version",
    "claimed_by_id",
    "claim_expires_at",
    "first_approver_id",
    "decided_by_id",
    "reason_code",
    "execution_attempts",
    "execution_error",
]

VERBS = {
    "review.submitted": "submitted",
    "review.claimed": "claimed",
    "review.claim_renewed": "renewed the claim on",
    "review.released": "released",
    "review.first_approval": "gave the first of two approvals to",
    "review.edited": "edited",
    "review.approved": "approved",
    "review.rejected": "rejected",
    "review.expired": "expired",
    "review.executed": "executed",
    "review.execution_failed": "failed to execute",
    "review.retried": "retried",
}


def to_read(item: ReviewItem, now: datetime) -> ReviewItemRead:
    """The DTO of an item, with its overdue flag worked out."""
    read = ReviewItemRead.model_validate(item)
    read.overdue = item.status is ReviewStatus.PENDING and item.due_at < now
    return read


def load(session: Session, item_id: int, *, lock: bool = False) -> ReviewItem:
    """The item (row-locked on PostgreSQL when ``lock``), or NotFound."""
    stmt = select(ReviewItem).where(ReviewItem.id == item_id)
    item = session.scalar(db.row_locked(stmt, session) if lock else stmt)
    if item is None:
        raise NotFound(f"There is no review item #{item_id}.")
    return item


def user_label(session: Session, user_id: int | None) -> str:
    """A person's display name, for messages."""
    if user_id is None:
        return "nobody"
    user = session.get(User, user_id)
    return user.display_name if user else f"user #{user_id}"


def describe_last_change(session: Session, item_id: int) -> str:
    """Who last changed the item, what they did and when, from the audit trail."""
    entry = session.scalar(
        select(AuditEntry)
        .where(AuditEntry.entity_type == ENTITY, AuditEntry.entity_id == item_id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None:
        return f"Review item #{item_id} was changed by someone else. Reload and retry."
    verb = VERBS.get(entry.action, entry.action)
    return (
        f"{entry.actor_label} {verb} review item #{item_id} at "
        f"{entry.created_at:%H:%M:%S} UTC ({entry.created_at:%Y-%m-%d}). Reload to see it."
    )


def check_version(session: Session, item: ReviewItem, seen_version: int) -> None:
    """Raise Conflict naming who did what and when, if the item changed since it was seen."""
    if item.row_version != seen_version:
        raise Conflict(describe_last_change(session, item.id))


def check_not_held_by_other(
    session: Session, item: ReviewItem, actor: Actor, now: datetime
) -> None:
    """Raise Conflict when someone else holds a live claim on the item."""
    if item.claim_live(now) and item.claimed_by_id != actor.user_id:
        assert item.claimed_by_id is not None and item.claim_expires_at is not None
        who = user_label(session, item.claimed_by_id)
        raise Conflict(
            f"{who} is working on review item #{item.id} until "
            f"{item.claim_expires_at:%H:%M} UTC. Pick another item or wait for the claim to end."
        )


def record(
    uow: UnitOfWork,
    item: ReviewItem,
    action: str,
    before: dict[str, Any],
    *,
    reason: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Flush the change and audit it with before/after."""
    uow.session.flush()
    after = audit.snapshot(item, AUDIT_FIELDS)
    if extra:
        after.update(extra)
    audit.record(
        uow,
        action=action,
        entity_type=ENTITY,
        entity_id=item.id,
        before=before,
        after=after,
        reason=reason,
        tenant_id=item.tenant_id,
    )
    notify_events.on_review(uow.session, item, action, utcnow())  # same transaction


def snapshot(item: ReviewItem) -> dict[str, Any]:
    """The audited fields of an item as they are now."""
    return audit.snapshot(item, AUDIT_FIELDS)


@contextmanager
def described_conflicts(actor: Actor, item_id: int) -> Iterator[None]:
    """Turn a lost optimistic-locking race into a Conflict that names the winner."""
    try:
        yield
    except Conflict as exc:
        if not isinstance(exc.__cause__, StaleDataError):
            raise
        with UnitOfWork(actor, readonly=True) as uow:
            message = describe_last_change(uow.session, item_id)
        raise Conflict(message) from exc


def load_decidable(
    uow: UnitOfWork,
    actor: Actor,
    item_id: int,
    seen_version: int,
    now: datetime,
    *,
    approving: bool,
) -> tuple[ReviewItem, ReviewPolicy]:
    """The row-locked item and the tenant's policy, once the item is as the actor saw it,
    still decidable, not held by someone else, and the policy lets the actor decide it."""
    item = load(uow.session, item_id, lock=True)
    check_version(uow.session, item, seen_version)
    item.require_decidable(now)
    check_not_held_by_other(uow.session, item, actor, now)
    policy = policies.load(uow.session, actor.tenant_id)
    policies.check_decider(policy, item, actor, approving=approving)
    return item, policy
