"""api rate windows: per-minute call counts per token and tenant, shared by console replicas

Revision ID: r11api
Revises: r11gov
Create Date: 2026-12-02 05:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r11api"
down_revision: str | None = "r11gov"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_rate_windows",
        sa.Column("bucket", sa.String(length=40), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "minute", name=op.f("pk_api_rate_windows")),
    )
    op.create_index("ix_api_rate_windows_minute", "api_rate_windows", ["minute"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_api_rate_windows_minute", table_name="api_rate_windows")
    op.drop_table("api_rate_windows")
