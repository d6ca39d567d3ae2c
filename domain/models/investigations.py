from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain import transitions
from domain.base import Base, BigId, TenantScoped, Timestamped, Versioned, str_enum, utcnow
from domain.enums import (
    EventSeverity,
    EventSource,
    InvestigationStatus,
    LinkStatus,
    Priority,
    Severity,
)


class Investigation(TenantScoped, Timestamped, Versioned, Base):
    __tablename__ = "investigations"
    __table_args__ = (
        Index("ix_investigations_tenant_status_created", "tenant_id", "status", "created_at"),
        Index("ix_investigations_tenant_service_detected", "tenant_id", "service", "detected_at"),
        Index("ix_investigations_tenant_detected_id", "tenant_id", "detected_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[Severity] = mapped_column(str_enum(Severity))
    status: Mapped[InvestigationStatus] = mapped_column(
        str_enum(InvestigationStatus), default=InvestigationStatus.OPEN
    )
    priority: Mapped[Priority] = mapped_column(str_enum(Priority), default=Priority.P2)
    detected_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    root_cause: Mapped[str | None] = mapped_column(Text)
    remediation: Mapped[str | None] = mapped_column(Text)
    lessons_learned: Mapped[str | None] = mapped_column(Text)
    service: Mapped[str | None] = mapped_column(String(100))
    component: Mapped[str | None] = mapped_column(String(100))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    assignee_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime | None]

    def move_to(self, status: InvestigationStatus, now: datetime, root_cause: str | None) -> None:
        """Change the status under the table's rules (resolving needs a root cause) and stamp
        when; reopening clears the resolved and closed times (the old ones stay in the audit)."""
        N = InvestigationStatus
        cause = root_cause if root_cause is not None and root_cause.strip() else self.root_cause
        self.status = transitions.investigation(self.status, status, root_cause=cause)
        self.root_cause = cause
        if status is N.IN_PROGRESS:
            self.started_at = self.started_at or now
            self.resolved_at = self.closed_at = None
        elif status is N.RESOLVED:
            self.resolved_at = now
        elif status is N.CLOSED:
            self.closed_at = now
        elif status is N.OPEN:
            self.resolved_at = self.closed_at = None
        self.updated_at = now


class Event(TenantScoped, Base):
    """One signal from one source, kept with the time it happened and the time we learned of it."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "source", "external_id"),
        Index("ix_events_tenant_occurred_id", "tenant_id", "occurred_at", "id"),  # timeline order
        Index("ix_events_tenant_service_occurred", "tenant_id", "service", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    source: Mapped[EventSource] = mapped_column(str_enum(EventSource))
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow)
    severity: Mapped[EventSeverity] = mapped_column(str_enum(EventSeverity))
    service: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payload_hash: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(300))


class EventLink(TenantScoped, Timestamped, Base):
    __tablename__ = "event_links"
    __table_args__ = (UniqueConstraint("investigation_id", "event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    investigation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("investigations.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    linked_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    rule: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[LinkStatus] = mapped_column(str_enum(LinkStatus))
    decided_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
