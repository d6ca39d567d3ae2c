"""audit chain: hashed, numbered, database-timed, append-only audit entries

``audit_entries`` gains ``seq`` (1, 2, … per tenant, unique), ``prev_hash`` and ``entry_hash``
(SHA-256 over the content and the previous hash; existing rows are chained in id order here),
and ``created_at`` defaults to the database's clock. Its tenant key no longer cascades and its
actor key is dropped (deleting a tenant or a user must not rewrite or erase the audit, and
the insert at commit must not wait on a locked user row). ``audit_purges`` records explicit
purges. Triggers on both engines refuse UPDATE and DELETE (services/audit_guards).

Revision ID: r11audit
Revises: r11api
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from domain.audit_chain import GENESIS, entry_hash
from domain.base import UTCDateTime
from services import audit_guards

revision: str = "r11audit"
down_revision: str | None = "r11api"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON(none_as_null=True).with_variant(
    sa.dialects.postgresql.JSONB(none_as_null=True), "postgresql"
)


def _backfill() -> None:
    entries = sa.table(
        "audit_entries",
        sa.column("id", _BIG),
        sa.column("tenant_id", _BIG),
        sa.column("seq", sa.BigInteger()),
        sa.column("prev_hash", sa.String(64)),
        sa.column("entry_hash", sa.String(64)),
        sa.column("actor_id", _BIG),
        sa.column("actor_label", sa.String(200)),
        sa.column("action", sa.String(100)),
        sa.column("entity_type", sa.String(64)),
        sa.column("entity_id", _BIG),
        sa.column("before", _JSON),
        sa.column("after", _JSON),
        sa.column("reason", sa.Text()),
        sa.column("created_at", UTCDateTime()),
    )
    conn = op.get_bind()
    heads: dict[int, tuple[int, str]] = {}
    for row in conn.execute(sa.select(entries).order_by(entries.c.id)).mappings():
        seq, prev = heads.get(row["tenant_id"], (0, GENESIS))
        seq += 1
        fields = {k: row[k] for k in row if k not in {"seq", "prev_hash", "entry_hash"}}
        digest = entry_hash(**fields, seq=seq, prev_hash=prev)
        conn.execute(
            sa.update(entries)
            .where(entries.c.id == row["id"])
            .values(seq=seq, prev_hash=prev, entry_hash=digest)
        )
        heads[row["tenant_id"]] = (seq, digest)


def upgrade() -> None:
    op.create_table(
        "audit_purges",
        sa.Column("id", _BIG, nullable=False),
        sa.Column("tenant_id", _BIG, nullable=False),
        sa.Column("tenant_slug", sa.String(length=64), nullable=False),
        sa.Column("operator", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("entries", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_purges")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("entry_hash", sa.String(length=64), nullable=True))
    _backfill()
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column(
            "created_at",
            existing_type=sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            existing_nullable=False,
        )
        batch_op.create_unique_constraint("uq_audit_entries_tenant_seq", ["tenant_id", "seq"])
        batch_op.drop_constraint("fk_audit_entries_tenant_id_tenants", type_="foreignkey")
        batch_op.drop_constraint("fk_audit_entries_actor_id_users", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_entries_tenant_id_tenants"), "tenants", ["tenant_id"], ["id"]
        )
    audit_guards.install(op.get_bind())


def downgrade() -> None:
    audit_guards.remove(op.get_bind())
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_audit_entries_tenant_id_tenants", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_entries_tenant_id_tenants"),
            "tenants",
            ["tenant_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_entries_actor_id_users"),
            "users",
            ["actor_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_constraint("uq_audit_entries_tenant_seq", type_="unique")
        batch_op.alter_column(
            "created_at",
            existing_type=sa.DateTime(timezone=True),
            server_default=None,
            existing_nullable=False,
        )
        batch_op.drop_column("entry_hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
    op.drop_table("audit_purges")
