"""Ingestion bookkeeping: quarantined records, connector health, git cursors, service map."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.base import Base, BigId, TenantScoped, Timestamped, str_enum
from domain.enums import BreakerState, EventSource, QuarantineStatus


class QuarantinedRecord(TenantScoped, Timestamped, Base):
    """One input record that failed validation, kept with where it was and why it failed."""

    __tablename__ = "quarantined_records"
    __table_args__ = (
        Index("ix_quarantined_records_tenant_status_id", "tenant_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    source: Mapped[EventSource] = mapped_column(str_enum(EventSource))
    origin: Mapped[str] = mapped_column(String(500))
    position: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    service: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[QuarantineStatus] = mapped_column(str_enum(QuarantineStatus))
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )


class ConnectorHealth(TenantScoped, Base):
    """How one connector of one tenant is doing, and its circuit breaker."""

    __tablename__ = "connector_health"
    __table_args__ = (UniqueConstraint("tenant_id", "source"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    source: Mapped[EventSource] = mapped_column(str_enum(EventSource))
    breaker_state: Mapped[BreakerState] = mapped_column(str_enum(BreakerState))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    events_ingested: Mapped[int] = mapped_column(Integer, default=0)
    duplicates_skipped: Mapped[int] = mapped_column(Integer, default=0)
    records_quarantined: Mapped[int] = mapped_column(Integer, default=0)


class GitCursor(TenantScoped, Base):
    """The newest commit already ingested from one repository, so the next ingest is incremental."""

    __tablename__ = "git_cursors"
    __table_args__ = (UniqueConstraint("tenant_id", "repo_path"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    repo_path: Mapped[str] = mapped_column(String(500))
    last_sha: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class ServiceDependency(TenantScoped, Timestamped, Base):
    """`service` depends on `depends_on`: a failure there may show up here."""

    __tablename__ = "service_dependencies"
    __table_args__ = (UniqueConstraint("tenant_id", "service", "depends_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(100))
    depends_on: Mapped[str] = mapped_column(String(100))


class InvestigationNote(TenantScoped, Timestamped, Base):
    """Append-only: a correction is a new note, never an edit."""

    __tablename__ = "investigation_notes"
    __table_args__ = (Index("ix_investigation_notes_investigation_id", "investigation_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    investigation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("investigations.id", ondelete="CASCADE")
    )
    author_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    author_label: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    corrects_note_id: Mapped[int | None] = mapped_column(BigId)
