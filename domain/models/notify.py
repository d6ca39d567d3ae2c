"""Notifications: channels, the outbox, delivery attempts, per-user preferences, alert rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.base import Base, BigId, TenantScoped, Timestamped, str_enum
from domain.enums import AlertState, ChannelKind, DigestMode, OutboxStatus


class NotifyChannel(TenantScoped, Timestamped, Base):
    """A tenant's destination: an email address, a webhook endpoint or a chat tool (apprise).

    ``target_enc`` (URL, apprise URL or address) and ``secret_enc`` (the webhook signing
    secret) are encrypted at rest. ``events`` are the webhook events it subscribes to."""

    __tablename__ = "notify_channels"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind))
    target_enc: Mapped[str] = mapped_column(Text)
    secret_enc: Mapped[str | None] = mapped_column(Text)
    events: Mapped[list[Any]]
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )


class OutboxMessage(TenantScoped, Timestamped, Base):
    """One notification to send, written in the transaction of its cause; ``dedupe_key`` is
    its stable id, so the same cause never queues (or sends) it twice."""

    __tablename__ = "notify_outbox"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        Index("ix_notify_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_notify_outbox_tenant_id", "tenant_id", "id"),
        Index("ix_notify_outbox_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("notify_channels.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    payload: Mapped[dict[str, Any]]
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None]
    digest_id: Mapped[int | None] = mapped_column(BigId)


class DeliveryAttempt(TenantScoped, Base):
    """One try at sending one outbox message, with what the other side said."""

    __tablename__ = "notify_attempts"
    __table_args__ = (Index("ix_notify_attempts_outbox", "outbox_id", "attempt"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    outbox_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("notify_outbox.id", ondelete="CASCADE")
    )
    attempt: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    duration_ms: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)


class NotifyPreference(TenantScoped, Base):
    """What one user wants to hear about, where, and when (immediately or a daily digest)."""

    __tablename__ = "notify_preferences"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    events: Mapped[list[Any]]
    channel: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind))
    target_enc: Mapped[str | None] = mapped_column(Text)
    mode: Mapped[DigestMode] = mapped_column(str_enum(DigestMode))
    digest_hour: Mapped[int] = mapped_column(Integer, default=8)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    quiet_start: Mapped[int | None] = mapped_column(Integer)
    quiet_end: Mapped[int | None] = mapped_column(Integer)
    last_digest_on: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime]


class AlertRule(TenantScoped, Timestamped, Base):
    """A threshold on one of the console's metrics, evaluated by the workers on an interval."""

    __tablename__ = "alert_rules"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        Index("ix_alert_rules_next_eval", "is_active", "next_evaluation_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    metric: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(32))
    threshold: Mapped[float] = mapped_column(Float)
    window_minutes: Mapped[int] = mapped_column(Integer)
    interval_s: Mapped[int] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(16))
    channel_ids: Mapped[list[Any]]
    cooldown_s: Mapped[int] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[AlertState] = mapped_column(str_enum(AlertState))
    firing_since: Mapped[datetime | None]
    last_value: Mapped[float | None] = mapped_column(Float)
    last_evaluated_at: Mapped[datetime | None]
    next_evaluation_at: Mapped[datetime]
    last_alerted_at: Mapped[datetime | None]


class AlertFiring(TenantScoped, Base):
    """One change of a rule's state: fired (alerted or held by the cool-down) or recovered."""

    __tablename__ = "alert_firings"
    __table_args__ = (Index("ix_alert_firings_rule_at", "rule_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    rule_id: Mapped[int] = mapped_column(BigId, ForeignKey("alert_rules.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[float] = mapped_column(Float)
    notified: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime]
