"""Reviews submitted over the API: idempotent submit, current state, and execution reports."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, HttpUrl
from sqlalchemy import func, select

from domain.base import utcnow
from domain.enums import ReasonCode, ReviewKind, ReviewStatus, Risk
from domain.models import ApiSubmission, ReviewItem, User
from services.actor import Actor
from services.errors import Conflict, InvalidInput, InvalidTransition
from services.permissions import Action, require
from services.review import drafts, execution, items
from services.review import policy as policies
from services.review.action import ActionCreate, validate_action
from services.uow import UnitOfWork

K = ReviewKind
SUBJECT_TYPES = {
    K.OUTREACH_EMAIL: "lead",
    K.DUNNING_NOTICE: "invoice",
    K.DEAL_PROPOSAL: "deal",
    K.COUNTER_OFFER: "deal",
    K.CONTRACT: "contract",
    K.RCA_HYPOTHESIS: "investigation",
}


class SubjectIn(BaseModel):
    type: str = Field(default="external", min_length=1, max_length=32)
    id: int | str = Field(default=0)
    label: str = Field(default="", max_length=300)


class ReviewSubmissionCreate(BaseModel):
    kind: ReviewKind = ReviewKind.ACTION
    subject: SubjectIn = Field(default_factory=SubjectIn)
    action: ActionCreate | None = None  # for kind "action"
    payload: dict[str, Any] | None = None  # for the built-in kinds
    amount: float | None = Field(default=None, ge=0, le=1e15, allow_inf_nan=False)
    risk: Risk = Risk.LOW
    confidence: float = Field(default=0.5, ge=0, le=1, allow_inf_nan=False)
    priority: int = Field(default=2, ge=0, le=9)
    triggered_by: str | None = Field(default=None, max_length=254)
    callback_url: HttpUrl | None = None
    agent: str = Field(default="external-agent", min_length=1, max_length=64)


class ReviewState(BaseModel):
    """Where a submitted item stands, with what the reviewer decided."""

    id: int
    kind: ReviewKind
    status: ReviewStatus
    row_version: int
    subject_type: str
    subject_label: str
    payload: dict[str, Any]
    original_payload: dict[str, Any]
    edited: bool
    decided_by: str | None
    decided_at: datetime | None
    reason_code: ReasonCode | None
    comment: str | None
    due_at: datetime
    expires_at: datetime | None
    executed_at: datetime | None
    execution_error: str | None
    created_at: datetime
    final: bool


class SubmitResult(BaseModel):
    review: ReviewState
    created: bool


class ExecutionReport(BaseModel):
    outcome: Literal["executed", "failed"]
    detail: str = Field(default="", max_length=4000)


TERMINAL = frozenset({ReviewStatus.EXECUTED, ReviewStatus.REJECTED, ReviewStatus.EXPIRED})


def _state(uow: UnitOfWork, item: ReviewItem) -> ReviewState:
    waiting_done = item.status is not ReviewStatus.PENDING
    return ReviewState(
        id=item.id,
        kind=item.kind,
        status=item.status,
        row_version=item.row_version,
        subject_type=item.subject_type,
        subject_label=item.subject_label,
        payload=item.payload,
        original_payload=item.original_payload,
        edited=item.edited_payload is not None,
        decided_by=items.user_label(uow.session, item.decided_by_id)
        if item.decided_by_id
        else None,
        decided_at=item.decided_at,
        reason_code=item.reason_code,
        comment=item.comment,
        due_at=item.due_at,
        expires_at=item.expires_at,
        executed_at=item.executed_at,
        execution_error=item.execution_error,
        created_at=item.created_at,
        final=waiting_done,
    )


def request_hash(submission_in: ReviewSubmissionCreate) -> str:
    """A fingerprint of a submission, to tell a retry from a different request under one key."""
    raw = json.dumps(submission_in.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _payload(uow: UnitOfWork, s: ReviewSubmissionCreate) -> tuple[dict[str, Any], str, int]:
    if s.kind is K.ACTION:
        if s.action is None:
            raise InvalidInput("An action review needs 'action' (title, summary, data, display).")
        return validate_action(s.action), s.subject.type, 0
    if s.payload is None or not s.payload:
        raise InvalidInput(f"A {s.kind.value} review needs a non-empty 'payload'.")
    try:
        subject_id = int(s.subject.id)
    except ValueError as exc:
        raise InvalidInput(f"A {s.kind.value} review is about a row of ours: give its id.") from exc
    model = execution.SUBJECTS[s.kind]
    if uow.session.scalar(select(model.id).where(model.id == subject_id)) is None:
        raise InvalidInput(f"There is no {SUBJECT_TYPES[s.kind]} #{subject_id} in your tenant.")
    return s.payload, SUBJECT_TYPES[s.kind], subject_id


def _triggered_by(uow: UnitOfWork, email: str | None) -> int | None:
    if not email:
        return None
    user = uow.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    return user.id if user else None


def _found(uow: UnitOfWork, key: str, digest: str) -> SubmitResult | None:
    sub = uow.session.scalar(select(ApiSubmission).where(ApiSubmission.idempotency_key == key))
    if sub is None:
        return None
    if sub.request_hash != digest:
        raise Conflict(
            f"The idempotency key {key!r} was already used at "
            f"{sub.created_at:%Y-%m-%d %H:%M:%S} UTC for a different request. "
            "Use a new key for a new action."
        )
    item = items.load(uow.session, sub.review_item_id)
    return SubmitResult(review=_state(uow, item), created=False)


def _existing(actor: Actor, key: str, digest: str) -> SubmitResult | None:
    with UnitOfWork(actor, readonly=True) as uow:
        return _found(uow, key, digest)


def submit(
    *, actor: Actor, idempotency_key: str, submission_in: ReviewSubmissionCreate
) -> SubmitResult:
    """Queue an item for review once per idempotency key (a retry returns the first item)."""
    key = idempotency_key.strip()
    if not key or len(key) > 200:
        raise InvalidInput("Send an Idempotency-Key header of 1 to 200 characters.")
    digest = request_hash(submission_in)
    now = utcnow()
    s = submission_in
    try:
        with UnitOfWork(actor) as uow:
            found = _found(uow, key, digest)  # a retry: the first answer again, nothing written
            if found is not None:
                return found
            payload, subject_type, subject_id = _payload(uow, s)
            policy = policies.load(uow.session, actor.tenant_id)
            amount = s.amount
            label = (
                s.subject.label
                or (payload.get("title") if s.kind is K.ACTION else "")
                or (f"{subject_type} {s.subject.id}")
            )
            item = ReviewItem(
                tenant_id=actor.tenant_id,
                kind=s.kind,
                status=ReviewStatus.PENDING,
                subject_type=subject_type,
                subject_id=subject_id,
                subject_label=str(label)[:300],
                payload=payload,
                original_payload=payload,
                search_text=drafts.search_text(str(label), payload),
                amount=amount,
                confidence=s.confidence,
                risk=s.risk,
                priority=s.priority,
                due_at=policy.due_at(s.kind, now),
                expires_at=policy.expires_at(s.kind, now),
                drafted_by=s.agent,
                triggered_by_id=_triggered_by(uow, s.triggered_by),
                created_at=now,
            )
            uow.session.add(item)
            uow.session.flush()
            uow.session.add(
                ApiSubmission(
                    tenant_id=actor.tenant_id,
                    idempotency_key=key,
                    request_hash=digest,
                    review_item_id=item.id,
                    token_id=actor.token_id,
                    triggered_by=s.triggered_by,
                    callback_url=str(s.callback_url) if s.callback_url else None,
                    external_subject=f"{s.subject.type}:{s.subject.id}"[:300],
                    created_at=now,
                )
            )
            items.record(
                uow,
                item,
                "review.submitted",
                {},
                extra={"kind": item.kind.value, "idempotency_key": key},
            )
            uow.commit()
            return SubmitResult(review=_state(uow, item), created=True)
    except Conflict:
        # Two retries raced on the same key: the loser answers with the winner's item.
        found = _existing(actor, key, digest)
        if found is None:
            raise
        return found


def get_state(*, actor: Actor, item_id: int) -> ReviewState:
    """The current state of a review item of the actor's tenant."""
    require(actor, Action.VIEW_REVIEW_QUEUE)
    with UnitOfWork(actor, readonly=True) as uow:
        return _state(uow, items.load(uow.session, item_id))


def probe(*, actor: Actor, item_id: int) -> tuple[ReviewStatus, int] | None:
    """The status and version of an item (a cheap check for long-polling), None if not found."""
    with UnitOfWork(actor, readonly=True) as uow:
        row = uow.session.execute(
            select(ReviewItem.status, ReviewItem.row_version).where(ReviewItem.id == item_id)
        ).first()
        return (row[0], row[1]) if row else None


def report_execution(*, actor: Actor, item_id: int, report_in: ExecutionReport) -> ReviewState:
    """Record that an approved external action was carried out (or failed) by its agent."""
    now = utcnow()
    target = ReviewStatus.EXECUTED if report_in.outcome == "executed" else ReviewStatus.FAILED
    with items.described_conflicts(actor, item_id), UnitOfWork(actor) as uow:
        item = items.load(uow.session, item_id, lock=True)
        if item.kind is not K.ACTION:
            raise InvalidTransition(
                f"Review item #{item.id} is a {item.kind.value}; the console carries it out itself."
            )
        if item.status is target:
            return _state(uow, item)  # the same report again changes nothing
        if item.status is not ReviewStatus.APPROVED:
            raise InvalidTransition(
                f"Review item #{item.id} is {item.status.value}; only an approved action can be "
                "reported as executed or failed."
            )
        before = items.snapshot(item)
        item.execution_attempts += 1
        detail = report_in.detail.strip() or None
        if target is ReviewStatus.EXECUTED:
            item.mark_executed(now)
            items.record(uow, item, "review.executed", before, extra={"outcome": detail})
        else:
            item.mark_failed(detail or "the agent reported a failure", now)
            items.record(uow, item, "review.execution_failed", before, reason=item.execution_error)
        uow.commit()
        return _state(uow, item)
