from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from domain.base import Base, BigId, TenantScoped

# The database's clock, not the writer's: every replica stamps entries from one source.
DB_NOW = text("CURRENT_TIMESTAMP")


class AuditEntry(TenantScoped, Base):
    """Append-only record of one mutation: who did what to which row, and how it looked before.

    ``seq`` numbers the tenant's entries 1, 2, …; ``entry_hash`` covers the content and
    ``prev_hash`` (the previous entry's hash), so an edited, forged or removed entry breaks the
    chain (`revo audit verify`); keyed, it is an HMAC nobody without the key can forge.
    Database triggers refuse UPDATE and DELETE (services/audit_guards).
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_tenant_entity", "tenant_id", "entity_type", "entity_id", "id"),
        Index("ix_audit_entries_tenant_created", "tenant_id", "created_at"),
        UniqueConstraint("tenant_id", "seq", name="uq_audit_entries_tenant_seq"),
    )
    # created_at comes back with the INSERT (RETURNING), so the seal can hash it at once.
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # No cascade: deleting a tenant must not silently erase its audit (`revo audit purge`).
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    # Null only between the insert and the seal in the same transaction (services/audit.record).
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    # Which audit key's HMAC entry_hash is (services/audit_key); null: a plain SHA-256, from
    # before the chain was keyed.
    key_id: Mapped[str | None] = mapped_column(String(16))
    # No foreign key: the label is kept, and an insert at commit must not wait on a locked user.
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int | None] = mapped_column(BigId)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=DB_NOW)


class AuditPurge(Base):
    """One explicit purge of a tenant's audit (`revo audit purge`): who, when, how much, and
    the chain's last hash. While ``completed_at`` is null the guard lets that tenant's entries go.
    """

    __tablename__ = "audit_purges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId)
    tenant_slug: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    entries: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    last_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=DB_NOW)
    completed_at: Mapped[datetime | None]


class AuditCheckpoint(Base):
    """A signed note of a tenant's chain head (`revo audit anchor`, the worker): entry ``seq``
    had ``entry_hash``. A chain that ends before its newest checkpoint was cut; verify may start
    from the newest checkpoint whose ``mac`` (HMAC over the other fields) checks out."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (Index("ix_audit_checkpoints_tenant_seq", "tenant_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId)  # no foreign key: outlives a purged tenant
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(16))
    mac: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=DB_NOW)
