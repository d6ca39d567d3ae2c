"""Putting a draft into the queue (system work: agents and seeding) and the SLA sweep."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.base import utcnow
from domain.enums import ReviewKind, ReviewStatus, Risk
from domain.models import Contract, Deal, Investigation, Invoice, Lead, ReviewItem
from domain.text_diff import payload_text
from services import db
from services.review import items
from services.review import policy as policies
from services.review.schemas import ReviewItemRead
from services.uow import UnitOfWork

SEARCH_TEXT_MAX = 4000
SWEEP_BATCH = 500
SUBJECT_MODELS: dict[str, Any] = {
    "lead": Lead,
    "deal": Deal,
    "invoice": Invoice,
    "contract": Contract,
    "investigation": Investigation,
}


class ReviewDraftCreate(BaseModel):
    kind: ReviewKind
    subject_type: str = Field(max_length=32)
    subject_id: int
    subject_label: str = Field(max_length=300)
    payload: dict[str, Any]
    confidence: float = Field(ge=0, le=1)
    risk: Risk = Risk.LOW
    priority: int = Field(default=2, ge=0, le=9)
    amount: float | None = None
    run_id: int | None = None
    drafted_by: str = Field(default="agent", max_length=64)
    triggered_by_id: int | None = None


def search_text(subject_label: str, payload: dict[str, Any]) -> str:
    """The lower-cased text the queue's search looks in."""
    return f"{subject_label}\n{payload_text(payload)}".lower()[:SEARCH_TEXT_MAX]


def submit_draft(*, tenant_id: int, draft_in: ReviewDraftCreate) -> ReviewItemRead:
    """Queue one draft for review with its SLA due and expiry times (system work)."""
    now = utcnow()
    with UnitOfWork(None) as uow:
        policy = policies.load(uow.session, tenant_id)
        item = ReviewItem(
            tenant_id=tenant_id,
            status=ReviewStatus.PENDING,
            original_payload=draft_in.payload,
            search_text=search_text(draft_in.subject_label, draft_in.payload),
            due_at=policy.due_at(draft_in.kind, now),
            expires_at=policy.expires_at(draft_in.kind, now),
            created_at=now,
            **draft_in.model_dump(),
        )
        uow.session.add(item)
        uow.session.flush()
        items.record(uow, item, "review.submitted", {}, extra={"kind": item.kind.value})
        uow.commit()
        return items.to_read(item, now)


def pending_duplicate(
    session: Session, *, kind: ReviewKind, subject_type: str, subject_id: int, lock: bool = False
) -> int | None:
    """The id of a pending item of this kind about this subject, if there is one.

    A subject gets one pending draft per kind: a second would be decided (and sent) on its
    own, so agents refuse to draft again until the first one is decided. With ``lock`` the
    subject row is locked first (PostgreSQL), so two runs finishing at once take turns."""
    if lock and subject_type in SUBJECT_MODELS:
        model = SUBJECT_MODELS[subject_type]
        session.scalar(db.row_locked(select(model.id).where(model.id == subject_id), session))
    return session.scalar(
        select(ReviewItem.id)
        .where(
            ReviewItem.kind == kind,
            ReviewItem.status == ReviewStatus.PENDING,
            ReviewItem.subject_type == subject_type,
            ReviewItem.subject_id == subject_id,
        )
        .order_by(ReviewItem.id)
        .limit(1)
    )


def expire_overdue(*, now: datetime | None = None) -> int:
    """Expire pending items past their expiry and free lapsed claims; returns items changed."""
    now = now or utcnow()
    changed = 0
    with UnitOfWork(None) as uow:
        expired = uow.session.scalars(
            db.row_locked(
                select(ReviewItem)
                .where(ReviewItem.status == ReviewStatus.PENDING, ReviewItem.expires_at <= now)
                .order_by(ReviewItem.id)
                .limit(SWEEP_BATCH),
                uow.session,
                skip_locked=True,  # concurrent sweeps pass over each other's rows
            )
        ).all()
        for item in expired:
            before = items.snapshot(item)
            item.expire(now)
            items.record(uow, item, "review.expired", before, reason="past its expiry time")
        lapsed = uow.session.scalars(
            db.row_locked(
                select(ReviewItem)
                .where(
                    ReviewItem.status == ReviewStatus.PENDING, ReviewItem.claim_expires_at <= now
                )
                .order_by(ReviewItem.id)
                .limit(SWEEP_BATCH),
                uow.session,
                skip_locked=True,  # concurrent sweeps pass over each other's rows
            )
        ).all()
        for item in lapsed:
            before = items.snapshot(item)
            item.release()
            items.record(uow, item, "review.released", before, reason="claim lease expired")
        changed = len(expired) + len(lapsed)
        uow.commit()
    return changed


def sweep() -> str | None:
    """Expire overdue items and free lapsed claims (the worker's periodic job)."""
    changed = expire_overdue()
    return f"expired or released {changed} items" if changed else None
