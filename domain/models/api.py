"""API tokens (service accounts) and what agents submitted over the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from domain.base import Base, BigId, TenantScoped, Timestamped


class ApiToken(TenantScoped, Timestamped, Base):
    """A per-tenant API token. Only the SHA-256 of the secret is kept; the secret is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_tenant_created", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[Any]]
    service_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=600)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL")
    )

    def is_usable(self, now: datetime) -> bool:
        """Neither revoked nor expired."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ApiSubmission(TenantScoped, Timestamped, Base):
    """A review item an agent submitted over the API: its idempotency key, callback, reports."""

    __tablename__ = "api_submissions"
    __table_args__ = (UniqueConstraint("tenant_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    review_item_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("review_items.id", ondelete="CASCADE"), unique=True
    )
    token_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("api_tokens.id", ondelete="SET NULL")
    )
    triggered_by: Mapped[str | None] = mapped_column(String(254))
    callback_url: Mapped[str | None] = mapped_column(String(2000))
    external_subject: Mapped[str | None] = mapped_column(String(300))
    reported_detail: Mapped[str | None] = mapped_column(Text)


class ApiRateWindow(Base):
    """Calls counted in one minute for one token or tenant, shared by every console replica.

    Not tenant-scoped: the limiter counts before any tenant's unit of work opens, and a row
    holds only a key (``t:<token prefix>`` or ``n:<tenant id>``), a minute and a count."""

    __tablename__ = "api_rate_windows"
    __table_args__ = (Index("ix_api_rate_windows_minute", "minute"),)

    bucket: Mapped[str] = mapped_column(String(40), primary_key=True)
    minute: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Unix time // 60
    hits: Mapped[int] = mapped_column(Integer)
