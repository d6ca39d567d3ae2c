"""The review rules of a draft's kind, applied to what an agent drafted (internal)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from domain.enums import ReviewKind
from services.agents.base import DraftRejected
from services.review import rules


def checked(
    session: Session, kind: ReviewKind, subject: Any, payload: dict[str, Any], context: str
) -> rules.Checked:
    """The same check an approval or a reviewer's edit runs; DraftRejected (another attempt
    may do better) when the model's draft breaks a rule."""
    try:
        return rules.check(session, kind=kind, subject=subject, payload=payload, context=context)
    except rules.DraftInvalid as exc:
        raise DraftRejected(exc.message) from exc
