"""Cron schedules for agents, and one row per occurrence fired (its unique key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.base import Base, BigId, TenantScoped, Timestamped, Versioned, str_enum
from domain.enums import AgentName


class Schedule(TenantScoped, Timestamped, Versioned, Base):
    """Run an agent on a selection of subjects at every occurrence of a cron expression."""

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        Index("ix_schedules_enabled_next_fire", "enabled", "next_fire_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    agent: Mapped[AgentName] = mapped_column(str_enum(AgentName))
    cron: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    selection: Mapped[dict[str, Any]]
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    next_fire_at: Mapped[datetime | None]
    last_fired_at: Mapped[datetime | None]
    last_occurrence_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )


class ScheduleFiring(TenantScoped, Timestamped, Base):
    """One fired occurrence: the unique (schedule, occurrence) makes firing exactly once."""

    __tablename__ = "schedule_firings"
    __table_args__ = (UniqueConstraint("schedule_id", "occurrence_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    schedule_id: Mapped[int] = mapped_column(BigId, ForeignKey("schedules.id", ondelete="CASCADE"))
    occurrence_at: Mapped[datetime]
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    runs_enqueued: Mapped[int] = mapped_column(Integer, default=0)
    worker_id: Mapped[str] = mapped_column(String(200))
