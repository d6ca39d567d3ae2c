"""review queue: indexes for the priority and confidence sorts and "claimed by me"

Revision ID: r3reviewqueue
Revises: r6investigations
Create Date: 2026-11-22 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "r3reviewqueue"
down_revision: str | None = "r6investigations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_review_items_tenant_status_priority_due",
        "review_items",
        ["tenant_id", "status", "priority", "due_at", "id"],
    )
    op.create_index(
        "ix_review_items_tenant_status_confidence",
        "review_items",
        ["tenant_id", "status", "confidence", "id"],
    )
    op.create_index(
        "ix_review_items_tenant_claimed_by", "review_items", ["tenant_id", "claimed_by_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_review_items_tenant_claimed_by", table_name="review_items")
    op.drop_index("ix_review_items_tenant_status_confidence", table_name="review_items")
    op.drop_index("ix_review_items_tenant_status_priority_due", table_name="review_items")
