from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from domain.base import Base, BigId, TenantScoped, Timestamped, Versioned, str_enum
from domain.enums import ReasonCode, ReviewKind, ReviewStatus, Risk


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
