"""A reviewer's edit of a draft, and the amount the four-eyes policy weighs (internal)."""

from __future__ import annotations

import math
from typing import Any

from domain.enums import ReviewKind
from domain.models import ReviewItem
from domain.text_diff import edit_distance, payload_text, unified_diff
from services.errors import InvalidInput
from services.review import drafts, items, rules
from services.uow import UnitOfWork

MONEY_KINDS = frozenset({ReviewKind.DEAL_PROPOSAL, ReviewKind.COUNTER_OFFER})


def _drafted_amount(item: ReviewItem) -> float | None:
    if item.kind not in MONEY_KINDS:
        return None
    raw = item.original_payload.get("price", item.original_payload.get("amount"))
    try:
        return float(rules.number(raw, "amount"))
    except InvalidInput:
        return None


def policy_amount(item: ReviewItem) -> float | None:
    """The larger of the drafted and the current amount: lowering an amount in an edit can
    never skip the second approver the draft needed."""
    found = [a for a in (item.amount, _drafted_amount(item)) if a is not None and math.isfinite(a)]
    return max(found) if found else None


def context(item: ReviewItem) -> str:
    """Text an edit may repeat without being "foreign data": what the agent itself drafted."""
    return f"{item.subject_label}\n{payload_text(item.original_payload)}"


def apply(
    uow: UnitOfWork, item: ReviewItem, edited: dict[str, Any], checked: rules.Checked
) -> None:
    """Store a checked edit with its diff; a real edit restarts four-eyes."""
    before = {**items.snapshot(item), "payload": item.payload}
    new_text = payload_text(edited)
    if payload_text(item.payload) == new_text:
        return
    if checked.amount is not None:
        item.amount = float(checked.amount)
    item.edited_payload = edited
    item.payload = edited
    item.search_text = drafts.search_text(item.subject_label, edited)
    item.edit_diff = unified_diff(payload_text(item.original_payload), new_text)
    item.edit_distance = edit_distance(payload_text(item.original_payload), new_text)
    if item.first_approver_id is not None:
        # The first approver approved other words or another amount: four-eyes starts again.
        item.first_approver_id = None
        item.first_approved_at = None
    items.record(
        uow,
        item,
        "review.edited",
        before,
        extra={"payload": edited, "edit_distance": item.edit_distance},
    )
