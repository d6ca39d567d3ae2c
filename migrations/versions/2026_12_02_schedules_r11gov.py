"""schedules: per-tenant cron schedules for agents and one row per fired occurrence

``schedule_firings`` is unique on (schedule, occurrence): however many workers see an
occurrence due, only one insert of it commits, so each occurrence fires exactly once.

Revision ID: r11gov
Revises: r11oidc
Create Date: 2026-12-02 05:11:23.543843
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import domain.base

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
Moment = domain.base.UTCDateTime(timezone=True)

revision: str = "r11gov"
down_revision: str | None = "r11oidc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", BigId, nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("agent", sa.String(length=32), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("selection", Json, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("next_fire_at", Moment, nullable=True),
        sa.Column("last_fired_at", Moment, nullable=True),
        sa.Column("last_occurrence_at", Moment, nullable=True),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_schedules_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_schedules_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_schedules_tenant_id_name")),
    )
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.create_index(
            "ix_schedules_enabled_next_fire", ["enabled", "next_fire_at"], unique=False
        )

    op.create_table(
        "schedule_firings",
        sa.Column("id", BigId, nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.Column("schedule_id", BigId, nullable=False),
        sa.Column("occurrence_at", Moment, nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("runs_enqueued", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_schedule_firings_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_schedule_firings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_firings")),
        sa.UniqueConstraint(
            "schedule_id",
            "occurrence_at",
            name=op.f("uq_schedule_firings_schedule_id_occurrence_at"),
        ),
    )


def downgrade() -> None:
    op.drop_table("schedule_firings")
    with op.batch_alter_table("schedules", schema=None) as batch_op:
        batch_op.drop_index("ix_schedules_enabled_next_fire")

    op.drop_table("schedules")
