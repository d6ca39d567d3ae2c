"""timeline order: the events-by-time index ends with the id, as the timeline sorts

The timeline reads ``ORDER BY occurred_at, id``; with ``id`` in the index PostgreSQL returns the
window in index order instead of sorting every group of equal times (half the query's time for
a 10,000-event window). SQLite keeps the rowid in every index already; the index is the same on
both engines all the same.

Revision ID: r8timelineorder
Revises: r7queuesearch
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "r8timelineorder"
down_revision: str | None = "r7queuesearch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_tenant_occurred_id", ["tenant_id", "occurred_at", "id"], unique=False
        )
        batch_op.drop_index("ix_events_tenant_occurred")


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_events_tenant_occurred", ["tenant_id", "occurred_at"], unique=False
        )
        batch_op.drop_index("ix_events_tenant_occurred_id")
