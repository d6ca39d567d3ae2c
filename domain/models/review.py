from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from domain import transitions
from domain.base import Base, BigId, TenantScoped, Timestamped, Versioned, str_enum
from domain.enums import ReasonCode, ReviewKind, ReviewStatus, Risk
from domain.transitions import InvalidTransition


class ReviewItem(TenantScoped, Timestamped, Versioned, Base):
    """One draft awaiting a human decision; nothing it describes happens before approval."""

    __tablename__ = "review_items"
    __table_args__ = (
        Index("ix_review_items_tenant_status_due", "tenant_id", "status", "due_at", "id"),
        Index("ix_review_items_tenant_status_created", "tenant_id", "status", "created_at", "id"),
        Index("ix_review_items_tenant_kind_status_due", "tenant_id", "kind", "status", "due_at"),
        Index("ix_review_items_tenant_subject", "tenant_id", "subject_type", "subject_id"),
        # metrics: reviewer throughput per day, answered from the index alone
        Index(
            "ix_review_items_tenant_decided",
            "tenant_id",
            "decided_at",
            "status",
            "decided_by_id",
        ),
        # The queue's other sort orders and "assigned to me" (migration r3reviewqueue).
        Index(
            "ix_review_items_tenant_status_priority_due",
            "tenant_id",
            "status",
            "priority",
            "due_at",
            "id",
        ),
        Index(
            "ix_review_items_tenant_status_confidence", "tenant_id", "status", "confidence", "id"
        ),
        Index("ix_review_items_tenant_claimed_by", "tenant_id", "claimed_by_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[ReviewKind] = mapped_column(str_enum(ReviewKind))
    status: Mapped[ReviewStatus] = mapped_column(
        str_enum(ReviewStatus), default=ReviewStatus.PENDING
    )
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int] = mapped_column(BigId)
    subject_label: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]]
    original_payload: Mapped[dict[str, Any]]
    edited_payload: Mapped[dict[str, Any] | None]
    edit_diff: Mapped[str | None] = mapped_column(Text)
    edit_distance: Mapped[int | None] = mapped_column(Integer)
    search_text: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[float | None] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    risk: Mapped[Risk] = mapped_column(str_enum(Risk), default=Risk.LOW)
    priority: Mapped[int] = mapped_column(Integer, default=2)
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    claimed_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    claim_expires_at: Mapped[datetime | None]
    run_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("agent_runs.id", ondelete="SET NULL"), index=True
    )
    drafted_by: Mapped[str] = mapped_column(String(64))
    triggered_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    first_approver_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    first_approved_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    reason_code: Mapped[ReasonCode | None] = mapped_column(str_enum(ReasonCode))
    comment: Mapped[str | None] = mapped_column(Text)
    executed_at: Mapped[datetime | None]
    execution_attempts: Mapped[int] = mapped_column(Integer, default=0)
    execution_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime | None]

    # --- rules: every status change and claim change of a review item goes through these ---

    def _move(self, target: ReviewStatus) -> None:
        self.status = transitions.review_item(self.status, target)

    def _refuse(self, target: ReviewStatus, message: str) -> InvalidTransition:
        return InvalidTransition("review item", self.status, target, message)

    def require_pending(self) -> None:
        """Raise unless the item still waits for a decision."""
        if self.status is not ReviewStatus.PENDING:
            raise self._refuse(
                ReviewStatus.APPROVED,
                f"Review item #{self.id} is {self.status.value}, not pending.",
            )

    def require_decidable(self, now: datetime) -> None:
        """Raise unless the item is pending and not past its expiry."""
        if self.status is not ReviewStatus.PENDING:
            raise self._refuse(
                ReviewStatus.APPROVED,
                f"Review item #{self.id} is {self.status.value}; "
                "only pending items can be decided.",
            )
        if self.expires_at is not None and self.expires_at <= now:
            raise self._refuse(
                ReviewStatus.APPROVED,
                f"Review item #{self.id} expired at {self.expires_at:%Y-%m-%d %H:%M} UTC without a "
                "decision; it can no longer be decided. Run the agent again for a new draft.",
            )

    def claim_live(self, now: datetime) -> bool:
        """Whether someone holds a claim that has not lapsed."""
        return (
            self.claimed_by_id is not None
            and self.claim_expires_at is not None
            and self.claim_expires_at > now
        )

    def claim(self, user_id: int | None, until: datetime) -> None:
        """Hold the pending item for ``user_id`` until ``until``."""
        self.require_pending()
        self.claimed_by_id = user_id
        self.claim_expires_at = until

    def release(self) -> None:
        """Give the item back to the pool (no holder, no lease)."""
        self.claimed_by_id = None
        self.claim_expires_at = None

    def first_approve(self, user_id: int | None, now: datetime) -> None:
        """Record the first of two approvals (four-eyes); the item stays pending."""
        self.require_decidable(now)
        self.release()
        self.first_approver_id = user_id
        self.first_approved_at = now
        self.updated_at = now

    def approve(self, user_id: int | None, now: datetime, comment: str | None) -> None:
        """The final human approval: only now may the item be carried out."""
        self.require_decidable(now)
        self._move(ReviewStatus.APPROVED)
        self.release()
        self.decided_by_id = user_id
        self.decided_at = now
        self.comment = comment or None
        self.updated_at = now

    def reject(
        self, user_id: int | None, now: datetime, reason_code: ReasonCode, comment: str | None
    ) -> None:
        """Refuse the draft with a reason; nothing is carried out."""
        self.require_decidable(now)
        self._move(ReviewStatus.REJECTED)
        self.release()
        self.reason_code = reason_code
        self.comment = comment or None
        self.decided_by_id = user_id
        self.decided_at = now
        self.updated_at = now

    def expire(self, now: datetime) -> None:
        """Close a pending item that waited past its expiry without a decision."""
        self._move(ReviewStatus.EXPIRED)
        self.release()
        self.updated_at = now

    def require_retryable(self) -> None:
        """Raise unless carrying the item out failed (only then may it be retried)."""
        if self.status is not ReviewStatus.FAILED:
            raise self._refuse(
                ReviewStatus.APPROVED,
                f"Review item #{self.id} is {self.status.value}; only failed items can be retried.",
            )

    def retry(self, now: datetime) -> None:
        """Send a failed execution back to approved, to be carried out again."""
        self.require_retryable()
        self._move(ReviewStatus.APPROVED)
        self.updated_at = now

    def mark_executed(self, now: datetime) -> None:
        """The approved item was carried out."""
        self._move(ReviewStatus.EXECUTED)
        self.executed_at = now
        self.execution_error = None
        self.updated_at = now

    def mark_failed(self, error: str, now: datetime) -> None:
        """Carrying out the approved item failed; an admin may retry it."""
        self._move(ReviewStatus.FAILED)
        self.execution_error = error
        self.updated_at = now
