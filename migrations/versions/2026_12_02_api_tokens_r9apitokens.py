"""api tokens: per-tenant API tokens (service accounts) and API review submissions

Revision ID: r9apitokens
Revises: r8timelineorder
Create Date: 2026-12-02 01:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import domain.base

revision: str = "r9apitokens"
down_revision: str | None = "r8timelineorder"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", BigId, nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", Json, nullable=False),
        sa.Column("service_user_id", BigId, nullable=False),
        sa.Column("created_by_id", BigId, nullable=True),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("expires_at", domain.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", domain.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", domain.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", BigId, nullable=True),
        sa.Column("created_at", domain.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_api_tokens_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["users.id"],
            name=op.f("fk_api_tokens_revoked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["service_user_id"],
            ["users.id"],
            name=op.f("fk_api_tokens_service_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_api_tokens_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_tokens_prefix")),
    )
    op.create_index("ix_api_tokens_tenant_created", "api_tokens", ["tenant_id", "id"])
    op.create_table(
        "api_submissions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("tenant_id", BigId, nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("review_item_id", BigId, nullable=False),
        sa.Column("token_id", BigId, nullable=True),
        sa.Column("triggered_by", sa.String(length=254), nullable=True),
        sa.Column("callback_url", sa.String(length=2000), nullable=True),
        sa.Column("external_subject", sa.String(length=300), nullable=True),
        sa.Column("reported_detail", sa.Text(), nullable=True),
        sa.Column("created_at", domain.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_item_id"],
            ["review_items.id"],
            name=op.f("fk_api_submissions_review_item_id_review_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_api_submissions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name=op.f("fk_api_submissions_token_id_api_tokens"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_submissions")),
        sa.UniqueConstraint(
            "tenant_id",
            "idempotency_key",
            name=op.f("uq_api_submissions_tenant_id_idempotency_key"),
        ),
        sa.UniqueConstraint("review_item_id", name=op.f("uq_api_submissions_review_item_id")),
    )


def downgrade() -> None:
    op.drop_table("api_submissions")
    op.drop_index("ix_api_tokens_tenant_created", table_name="api_tokens")
    op.drop_table("api_tokens")
