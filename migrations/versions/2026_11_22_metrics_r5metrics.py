"""metrics: daily rollups of agent runs and LLM calls, kept current by triggers

Revision ID: r5metrics
Revises: cb27a5595613
Create Date: 2026-11-22 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.metrics import rollup_sql

revision: str = "r5metrics"
down_revision: str | None = "cb27a5595613"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _table(name: str, keys: list[sa.Column], values: list[sa.Column]) -> None:
    op.create_table(
        name,
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("day", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=32), nullable=False),
        *keys,
        *values,
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{name}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "day", "agent", *(c.name for c in keys), name=op.f(f"pk_{name}")
        ),
    )


def _call_keys() -> list[sa.Column]:
    return [
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("prompt_key", sa.String(length=100), nullable=False),
        sa.Column("prompt_version", sa.Integer(), nullable=False),
    ]


def _review_keys() -> list[sa.Column]:
    return [
        sa.Column("prompt_key", sa.String(length=100), nullable=False),
        sa.Column("prompt_version", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    _table(
        "metric_run_days",
        [sa.Column("status", sa.String(length=32), nullable=False)],
        [
            sa.Column("runs", sa.Integer(), nullable=False),
            sa.Column("retried_runs", sa.Integer(), nullable=False),
            sa.Column("retry_attempts", sa.Integer(), nullable=False),
        ],
    )
    _table(
        "metric_run_duration_days",
        [sa.Column("bin", sa.Integer(), nullable=False)],
        [sa.Column("n", sa.Integer(), nullable=False)],
    )
    _table(
        "metric_call_days",
        [*_call_keys(), sa.Column("outcome", sa.String(length=32), nullable=False)],
        [
            sa.Column("calls", sa.Integer(), nullable=False),
            sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
            sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
            sa.Column("latency_ms", sa.BigInteger(), nullable=False),
            sa.Column("repaired", sa.Integer(), nullable=False),
            sa.Column("reasks", sa.Integer(), nullable=False),
        ],
    )
    _table(
        "metric_call_latency_days",
        [*_call_keys(), sa.Column("bin", sa.Integer(), nullable=False)],
        [sa.Column("n", sa.Integer(), nullable=False)],
    )
    _table(
        "metric_review_days",
        [
            *_review_keys(),
            sa.Column("status", sa.String(length=32), nullable=False),
            sa.Column("edited", sa.Integer(), nullable=False),
            sa.Column("reason_code", sa.String(length=32), nullable=False),
        ],
        [sa.Column("n", sa.Integer(), nullable=False)],
    )
    _table(
        "metric_review_hist_days",
        [
            *_review_keys(),
            sa.Column("measure", sa.String(length=8), nullable=False),
            sa.Column("bin", sa.Integer(), nullable=False),
        ],
        [sa.Column("n", sa.Integer(), nullable=False)],
    )
    op.create_index("ix_agent_runs_tenant_created", "agent_runs", ["tenant_id", "created_at"])
    op.create_index(
        "ix_review_items_tenant_decided",
        "review_items",
        ["tenant_id", "decided_at", "status", "decided_by_id"],
    )
    bind = op.get_bind()
    rollup_sql.install(bind)
    rollup_sql.rebuild(bind)


def downgrade() -> None:
    rollup_sql.drop(op.get_bind())
    op.drop_index("ix_review_items_tenant_decided", table_name="review_items")
    op.drop_index("ix_agent_runs_tenant_created", table_name="agent_runs")
    for name in (
        "metric_review_hist_days",
        "metric_review_days",
        "metric_call_latency_days",
        "metric_call_days",
        "metric_run_duration_days",
        "metric_run_days",
    ):
        op.drop_table(name)
