"""audit keys: keyed (HMAC) audit entries and signed chain checkpoints

``audit_entries.key_id`` names the audit key whose HMAC ``entry_hash`` is (null: a plain
SHA-256 from before the chain was keyed; those entries keep verifying as they are).
``audit_checkpoints`` holds signed notes of each tenant's chain head, so a chain cut short is
found and verify can start from the newest checkpoint (services/audit_anchors).

Revision ID: r12audit13
Revises: r12loadms
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services import audit_guards

revision: str = "r12audit13"
down_revision: str | None = "r12loadms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy of the table, which would drop its guard triggers).
    op.add_column("audit_entries", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", _BIG, nullable=False),
        sa.Column("tenant_id", _BIG, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoints")),
    )
    op.create_index(
        "ix_audit_checkpoints_tenant_seq", "audit_checkpoints", ["tenant_id", "seq"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_audit_checkpoints_tenant_seq", table_name="audit_checkpoints")
    op.drop_table("audit_checkpoints")
    conn = op.get_bind()
    audit_guards.remove(conn)  # SQLite copies the table to drop a column
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_column("key_id")
    audit_guards.install(conn)
