"""What every executor of an approved item shares: its failure and its subject row (internal)."""

from __future__ import annotations

from typing import Any

from domain.models import ReviewItem
from services.uow import UnitOfWork


class ExecutionFailed(Exception):
    """The item's action could not be carried out; stored on the item as its error."""


def get_subject(uow: UnitOfWork, model: type[Any], item: ReviewItem) -> Any:
    """The row the item is about, or ExecutionFailed when it is gone."""
    row = uow.session.get(model, item.subject_id)
    if row is None:
        raise ExecutionFailed(f"The {item.subject_type} #{item.subject_id} no longer exists.")
    return row


def first_text(payload: dict[str, Any], *keys: str) -> str:
    """The first non-blank string among the payload's keys, or ''."""
    for key in keys:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""
