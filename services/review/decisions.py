"""Deciding review items: approve, edit and approve, reject, bulk, and an admin's retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.base import utcnow
from domain.enums import ReasonCode, ReviewStatus
from domain.models import ReviewItem
from domain.review_policy import approval_is_final
from services.actor import Actor
from services.errors import InvalidInput, ServiceError
from services.permissions import Action, require
from services.review import editing, execution, items, prechecks, rules
from services.review import policy as policies
from services.review.schemas import BulkItemResult, BulkResult, DecisionResult
from services.uow import UnitOfWork

MAX_COMMENT = 2000


def _checked(
    uow: UnitOfWork, item: ReviewItem, payload: dict[str, Any], subject: Any
) -> rules.Checked:
    """The kind's rules on what is about to be approved (nothing to check if the subject is
    gone: executing then fails, saying so)."""
    if subject is None:
        return rules.Checked()
    return rules.check(
        uow.session,
        kind=item.kind,
        subject=subject,
        payload=payload,
        context=editing.context(item),
    )


def _approve(
    actor: Actor, item_id: int, seen_version: int, edited: dict[str, Any] | None, comment: str
) -> DecisionResult:
    require(actor, Action.DECIDE_REVIEW)
    now = utcnow()
    with items.described_conflicts(actor, item_id), UnitOfWork(actor) as uow:
        item, policy = items.load_decidable(uow, actor, item_id, seen_version, now, approving=True)
        subject = execution.lock_subject(uow, item)
        payload = item.payload
        if edited is not None:
            payload = rules.merge_edit(item.kind, item.payload, edited, item.subject_type)
        checked = _checked(uow, item, payload, subject)
        if edited is not None:
            editing.apply(uow, item, payload, checked)
        execution.check_preconditions(uow, item, policy, now)
        before = items.snapshot(item)
        final = approval_is_final(
            policy,
            kind=item.kind,
            amount=editing.policy_amount(item),
            user_id=actor.user_id,
            first_approver_id=item.first_approver_id,
        )
        if not final:
            item.first_approve(actor.user_id, now)
            items.record(uow, item, "review.first_approval", before, reason=comment or None)
            uow.commit()
            message = (
                f"First approval recorded for item #{item.id}. Its amount is above the four-eyes "
                "limit, so a second, different approver must approve it before it goes out."
            )
            return DecisionResult(item=items.to_read(item, now), message=message)
        item.approve(actor.user_id, now, comment)
        items.record(uow, item, "review.approved", before, reason=comment or None)
        execution.execute(uow, item, policy, now)
        uow.commit()
        return _result(item, now)


def _result(item: ReviewItem, now: datetime) -> DecisionResult:
    read = items.to_read(item, now)
    if item.status is ReviewStatus.APPROVED:
        message = f"Item #{item.id} approved; the agent that asked will carry it out and report."
        return DecisionResult(item=read, message=message)
    if item.status is ReviewStatus.EXECUTED:
        return DecisionResult(item=read, message=f"Item #{item.id} approved and carried out.")
    message = (
        f"Item #{item.id} was approved, but carrying it out failed: {item.execution_error} "
        f"Next step: {prechecks.next_step(item)}"
    )
    return DecisionResult(item=read, message=message, ok=False)


def _comment(comment: str) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"The comment is too long ({len(comment)} > {MAX_COMMENT} characters).")
    return comment


def approve(*, actor: Actor, item_id: int, seen_version: int, comment: str = "") -> DecisionResult:
    """Approve a pending item as drafted (and carry it out once the approval is final)."""
    return _approve(actor, item_id, seen_version, None, _comment(comment))


def edit_and_approve(
    *,
    actor: Actor,
    item_id: int,
    seen_version: int,
    edited_payload: dict[str, Any],
    comment: str = "",
) -> DecisionResult:
    """Approve a pending item with the reviewer's edits, keeping the original and a diff."""
    return _approve(actor, item_id, seen_version, edited_payload, _comment(comment))


def reject(
    *,
    actor: Actor,
    item_id: int,
    seen_version: int,
    reason_code: ReasonCode,
    comment: str = "",
) -> DecisionResult:
    """Reject a pending item with a reason code and a comment."""
    require(actor, Action.DECIDE_REVIEW)
    comment = _comment(comment)
    if reason_code is ReasonCode.OTHER and not comment:
        raise InvalidInput("Say why in the comment when the reason is 'other'.")
    now = utcnow()
    with items.described_conflicts(actor, item_id), UnitOfWork(actor) as uow:
        item, _ = items.load_decidable(uow, actor, item_id, seen_version, now, approving=False)
        before = items.snapshot(item)
        item.reject(actor.user_id, now, reason_code, comment)
        items.record(uow, item, "review.rejected", before, reason=comment or reason_code.value)
        uow.commit()
        return DecisionResult(item=items.to_read(item, now), message=f"Item #{item.id} rejected.")


def retry_execution(*, actor: Actor, item_id: int, seen_version: int) -> DecisionResult:
    """Carry out a failed item again (admins only)."""
    require(actor, Action.RETRY_EXECUTION)
    now = utcnow()
    with items.described_conflicts(actor, item_id), UnitOfWork(actor) as uow:
        item = items.load(uow.session, item_id, lock=True)
        items.check_version(uow.session, item, seen_version)
        item.require_retryable()
        policy = policies.load(uow.session, actor.tenant_id)
        _checked(uow, item, item.payload, execution.lock_subject(uow, item))
        execution.check_preconditions(uow, item, policy, now)
        before = items.snapshot(item)
        item.retry(now)
        items.record(uow, item, "review.retried", before)
        execution.execute(uow, item, policy, now)
        uow.commit()
        return _result(item, now)


def bulk_decide(
    *,
    actor: Actor,
    versions: dict[int, int],
    approve_all: bool,
    reason_code: ReasonCode | None = None,
    comment: str = "",
) -> BulkResult:
    """Approve or reject many items, each under the same rules in its own transaction."""
    require(actor, Action.DECIDE_REVIEW)
    if not approve_all and reason_code is None:
        raise InvalidInput("Pick a reason for rejecting the selected items.")
    results = []
    for item_id, version in versions.items():
        try:
            if approve_all:
                outcome = approve(
                    actor=actor, item_id=item_id, seen_version=version, comment=comment
                )
            else:
                assert reason_code is not None
                outcome = reject(
                    actor=actor,
                    item_id=item_id,
                    seen_version=version,
                    reason_code=reason_code,
                    comment=comment,
                )
        except ServiceError as exc:
            results.append(BulkItemResult(item_id=item_id, ok=False, message=exc.message))
        else:
            results.append(BulkItemResult(item_id=item_id, ok=outcome.ok, message=outcome.message))
    return BulkResult(results=results)
