"""Claims on review items: a lease so two reviewers don't work the same draft."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from domain.base import utcnow
from domain.enums import ReviewStatus
from domain.models import ReviewItem
from services import db
from services.actor import Actor
from services.config import get_settings
from services.errors import Conflict, PermissionDenied
from services.permissions import Action, can, require
from services.review import items
from services.review import policy as policies
from services.review.schemas import ReviewItemRead
from services.uow import UnitOfWork


def _lease_end(now: datetime) -> datetime:
    return now + timedelta(minutes=get_settings().review_claim_minutes)


def _take(uow: UnitOfWork, item: ReviewItem, actor: Actor, now: datetime) -> None:
    before = items.snapshot(item)
    item.claim(actor.user_id, _lease_end(now))
    items.record(uow, item, "review.claimed", before)


def _release_mine(uow: UnitOfWork, actor: Actor, now: datetime, keep: int | None) -> None:
    mine = uow.session.scalars(
        select(ReviewItem).where(
            ReviewItem.claimed_by_id == actor.user_id,
            ReviewItem.status == ReviewStatus.PENDING,
            ReviewItem.id != (keep or 0),
        )
    ).all()
    for item in mine:
        before = items.snapshot(item)
        item.release()
        items.record(uow, item, "review.released", before, reason="moved to the next item")


def claim(*, actor: Actor, item_id: int) -> ReviewItemRead:
    """Hold a pending item for review_claim_minutes so nobody else decides it meanwhile."""
    require(actor, Action.DECIDE_REVIEW)
    now = utcnow()
    with items.described_conflicts(actor, item_id), UnitOfWork(actor) as uow:
        item = items.load(uow.session, item_id, lock=True)
        item.require_pending()
        items.check_not_held_by_other(uow.session, item, actor, now)
        policy = policies.load(uow.session, actor.tenant_id)
        policies.check_decider(policy, item, actor, approving=False)
        _take(uow, item, actor, now)
        uow.commit()
        return items.to_read(item, now)


def renew(*, actor: Actor, item_id: int) -> ReviewItemRead:
    """Extend the actor's own claim by another lease."""
    require(actor, Action.DECIDE_REVIEW)
    now = utcnow()
    with items.described_conflicts(actor, item_id), UnitOfWork(actor) as uow:
        item = items.load(uow.session, item_id, lock=True)
        if item.claimed_by_id != actor.user_id or item.status is not ReviewStatus.PENDING:
            raise Conflict(
                f"You no longer hold review item #{item.id}. "
                + items.describe_last_change(uow.session, item.id)
            )
        before = items.snapshot(item)
        item.claim(actor.user_id, _lease_end(now))
        items.record(uow, item, "review.claim_renewed", before)
        uow.commit()
        return items.to_read(item, now)


def release(*, actor: Actor, item_id: int) -> ReviewItemRead:
    """Give a claimed item back to the pool (its holder, or an admin)."""
    require(actor, Action.DECIDE_REVIEW)
    now = utcnow()
    with items.described_conflicts(actor, item_id), UnitOfWork(actor) as uow:
        item = items.load(uow.session, item_id, lock=True)
        if item.claimed_by_id is None:
            return items.to_read(item, now)
        if (
            item.claimed_by_id != actor.user_id
            and item.claim_live(now)
            and not require_admin(actor)
        ):
            holder = items.user_label(uow.session, item.claimed_by_id)
            raise PermissionDenied(f"Only {holder} or an admin may release review item #{item.id}.")
        before = items.snapshot(item)
        item.release()
        items.record(uow, item, "review.released", before)
        uow.commit()
        return items.to_read(item, now)


def require_admin(actor: Actor) -> bool:
    """Whether the actor may override other people's claims."""
    return can(actor, Action.MANAGE_POLICIES)


def next_item(*, actor: Actor) -> ReviewItemRead | None:
    """Claim the most urgent unclaimed pending item the actor may decide (None when done)."""
    require(actor, Action.DECIDE_REVIEW)
    now = utcnow()
    with UnitOfWork(actor) as uow:
        policy = policies.load(uow.session, actor.tenant_id)
        kinds = policy.kinds_for(actor.role)
        if not kinds:
            return None
        # Kinds whose triggerer may approve their own run's draft (the policy's choice).
        self_ok = [k for k in kinds if policy.triggerer_may_approve.get(k, False)]
        stmt = (
            select(ReviewItem)
            .where(
                ReviewItem.status == ReviewStatus.PENDING,
                ReviewItem.kind.in_(kinds),
                or_(ReviewItem.claimed_by_id.is_(None), ReviewItem.claim_expires_at <= now),
                or_(ReviewItem.expires_at.is_(None), ReviewItem.expires_at > now),
                or_(
                    ReviewItem.triggered_by_id.is_(None),
                    ReviewItem.triggered_by_id != actor.user_id,
                    ReviewItem.kind.in_(self_ok),
                ),
                or_(
                    ReviewItem.first_approver_id.is_(None),
                    ReviewItem.first_approver_id != actor.user_id,
                ),
            )
            .order_by(ReviewItem.priority, ReviewItem.due_at, ReviewItem.id)
            .limit(1)
        )
        item = uow.session.scalar(db.row_locked(stmt, uow.session, skip_locked=True))
        if item is None:
            return None
        _release_mine(uow, actor, now, keep=item.id)
        _take(uow, item, actor, now)
        uow.commit()
        return items.to_read(item, now)
