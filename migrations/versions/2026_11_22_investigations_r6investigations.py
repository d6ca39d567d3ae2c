"""investigations: ingest quarantine, connector health, git cursors, service dependencies,
append-only investigation notes, and a (tenant, detected_at, id) index for keyset search

Revision ID: r6investigations
Revises: r5metrics
Create Date: 2026-11-22 03:12:40.255154
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r6investigations"
down_revision: str | None = "r5metrics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connector_health",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("breaker_state", sa.String(length=32), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("events_ingested", sa.Integer(), nullable=False),
        sa.Column("duplicates_skipped", sa.Integer(), nullable=False),
        sa.Column("records_quarantined", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_connector_health_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connector_health")),
        sa.UniqueConstraint(
            "tenant_id", "source", name=op.f("uq_connector_health_tenant_id_source")
        ),
    )
    op.create_table(
        "git_cursors",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("repo_path", sa.String(length=500), nullable=False),
        sa.Column("last_sha", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_git_cursors_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_git_cursors")),
        sa.UniqueConstraint(
            "tenant_id", "repo_path", name=op.f("uq_git_cursors_tenant_id_repo_path")
        ),
    )
    op.create_table(
        "service_dependencies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("depends_on", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_service_dependencies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_dependencies")),
        sa.UniqueConstraint(
            "tenant_id",
            "service",
            "depends_on",
            name=op.f("uq_service_dependencies_tenant_id_service_depends_on"),
        ),
    )
    op.create_table(
        "quarantined_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=500), nullable=False),
        sa.Column("position", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "resolved_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["users.id"],
            name=op.f("fk_quarantined_records_resolved_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_quarantined_records_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_records")),
    )
    with op.batch_alter_table("quarantined_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quarantined_records_tenant_status_id", ["tenant_id", "status", "id"], unique=False
        )

    op.create_table(
        "investigation_notes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "investigation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("author_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("author_label", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "corrects_note_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_investigation_notes_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigations.id"],
            name=op.f("fk_investigation_notes_investigation_id_investigations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_investigation_notes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investigation_notes")),
    )
    with op.batch_alter_table("investigation_notes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_investigation_notes_investigation_id", ["investigation_id", "id"], unique=False
        )

    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_investigations_tenant_detected_id", ["tenant_id", "detected_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.drop_index("ix_investigations_tenant_detected_id")

    with op.batch_alter_table("investigation_notes", schema=None) as batch_op:
        batch_op.drop_index("ix_investigation_notes_investigation_id")

    op.drop_table("investigation_notes")
    with op.batch_alter_table("quarantined_records", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantined_records_tenant_status_id")

    op.drop_table("quarantined_records")
    op.drop_table("service_dependencies")
    op.drop_table("git_cursors")
    op.drop_table("connector_health")
