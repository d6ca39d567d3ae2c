"""Deciding review items: approve, edit and approve, reject, bulk, and an admin's retry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.base import utcnow
from domain.enums import ReasonCode, ReviewStatus
from domain.models import ReviewItem
from domain.review_policy import approval_is_final, check_may_decide
from domain.text_diff import edit_distance, payload_text, unified_diff
from services.actor import Actor
from services.errors import InvalidInput, InvalidTransition, ServiceError
from services.permissions import Action, require
from services.review import drafts, execution, items
from services.review import policy as policies
from services.review.schemas import BulkItemResult, BulkResult, DecisionResult
from services.uow import UnitOfWork

MAX_COMMENT = 2000


def _pending(item: ReviewItem, now: datetime) -> None:
    if item.status is not ReviewStatus.PENDING:
        raise InvalidTransition(
            f"Review item #{item.id} is {item.status.value}; only pending items can be decided."
        )
    if item.expires_at is not None and item.expires_at <= now:
        raise InvalidTransition(
            f"Review item #{item.id} expired at {item.expires_at:%Y-%m-%d %H:%M} UTC without a "
            "decision; it can no longer be decided. Run the agent again for a new draft."
        )


def _amount(payload: dict[str, Any], fallback: float | None) -> float | None:
    value = payload.get("amount", fallback)
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"The amount {value!r} is not a number.") from exc


def _apply_edit(uow: UnitOfWork, item: ReviewItem, edited: dict[str, Any]) -> None:
    if not isinstance(edited, dict) or not edited:
        raise InvalidInput("The edited draft is empty.")
    before = {**items.snapshot(item), "payload": item.payload}
    old_text, new_text = payload_text(item.payload), payload_text(edited)
    if old_text == new_text:
        return
    item.amount = _amount(edited, item.amount)
    item.edited_payload = edited
    item.payload = edited
    item.search_text = drafts.search_text(item.subject_label, edited)
    item.edit_diff = unified_diff(payload_text(item.original_payload), new_text)
    item.edit_distance = edit_distance(payload_text(item.original_payload), new_text)
    if item.first_approver_id is not None:
        # The first approver approved other words; four-eyes starts again on the new text.
        item.first_approver_id = None
        item.first_approved_at = None
    items.record(
        uow,
        item,
        "review.edited",
        before,
        extra={"payload": edited, "edit_distance": item.edit_distance},
    )


def _approve(
    actor: Actor, item_id: int, seen_version: int, edited: dict[str, Any] | None, comment: str
) -> DecisionResult:
    require(actor, Action.DECIDE_REVIEW)
    now = utcnow()
    with items.described_conflicts(actor, item_id), UnitOfWork(actor) as uow:
        item = items.load(uow.session, item_id, lock=True)
        items.check_version(uow.session, item, seen_version)
        _pending(item, now)
        items.check_not_held_by_other(uow.session, item, actor, now)
        policy = policies.load(uow.session, actor.tenant_id)
        check_may_decide(
            policy,
            kind=item.kind,
            role=actor.role,
            user_id=actor.user_id,
            triggered_by_id=item.triggered_by_id,
            approving=True,
        )
        execution.check_preconditions(uow, item, policy, now)
        if edited is not None:
            _apply_edit(uow, item, edited)
        before = items.snapshot(item)
        final = approval_is_final(
            policy,
            kind=item.kind,
            amount=item.amount,
            user_id=actor.user_id,
            first_approver_id=item.first_approver_id,
        )
        item.claimed_by_id = None
        item.claim_expires_at = None
        item.updated_at = now
        if not final:
            item.first_approver_id = actor.user_id
            item.first_approved_at = now
            items.record(uow, item, "review.first_approval", before, reason=comment or None)
            uow.commit()
            message = (
                f"First approval recorded for item #{item.id}. Its amount is above the four-eyes "
                "limit, so a second, different approver must approve it before it goes out."
            )
            return DecisionResult(item=items.to_read(item, now), message=message)
        items.move(item, ReviewStatus.APPROVED)
        item.decided_by_id = actor.user_id
        item.decided_at = now
        item.comment = comment or None
        items.record(uow, item, "review.approved", before, reason=comment or None)
        execution.execute(uow, item, policy, now)
        uow.commit()
        return DecisionResult(item=items.to_read(item, now), message=_outcome(item))


def _outcome(item: ReviewItem) -> str:
    if item.status is ReviewStatus.APPROVED:
        return f"Item #{item.id} approved; the agent that asked will carry it out and report."
    if item.status is ReviewStatus.EXECUTED:
        return f"Item #{item.id} approved and carried out."
    return f"Item #{item.id} approved, but carrying it out failed: {item.execution_error}"


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
        item = items.load(uow.session, item_id, lock=True)
        items.check_version(uow.session, item, seen_version)
        _pending(item, now)
        items.check_not_held_by_other(uow.session, item, actor, now)
        policy = policies.load(uow.session, actor.tenant_id)
        check_may_decide(
            policy,
            kind=item.kind,
            role=actor.role,
            user_id=actor.user_id,
            triggered_by_id=item.triggered_by_id,
            approving=False,
        )
        before = items.snapshot(item)
        items.move(item, ReviewStatus.REJECTED)
        item.reason_code = reason_code
        item.comment = comment or None
        item.decided_by_id = actor.user_id
        item.decided_at = now
        item.claimed_by_id = None
        item.claim_expires_at = None
        item.updated_at = now
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
        if item.status is not ReviewStatus.FAILED:
            raise InvalidTransition(
                f"Review item #{item.id} is {item.status.value}; only failed items can be retried."
            )
        policy = policies.load(uow.session, actor.tenant_id)
        execution.check_preconditions(uow, item, policy, now)
        before = items.snapshot(item)
        items.move(item, ReviewStatus.APPROVED)
        item.updated_at = now
        items.record(uow, item, "review.retried", before)
        execution.execute(uow, item, policy, now)
        uow.commit()
        return DecisionResult(item=items.to_read(item, now), message=_outcome(item))


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
            results.append(BulkItemResult(item_id=item_id, ok=True, message=outcome.message))
    return BulkResult(results=results)
