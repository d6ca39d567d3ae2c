from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from domain.base import Base, BigId, TenantScoped, Timestamped


class AuthSession(TenantScoped, Timestamped, Base):
    """One signed-in browser. The browser holds an opaque token; only its SHA-256 is stored."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # A one-time code the browser trades for the cookie right after signing in.
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_expires_at: Mapped[datetime | None]
    method: Mapped[str] = mapped_column(String(16))
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))

    def is_live(self, now: datetime, idle_seconds: float) -> bool:
        """Whether the session may still be used at ``now``."""
        if self.ended_at is not None or now >= self.expires_at:
            return False
        return (now - self.last_seen_at).total_seconds() < idle_seconds

    def end(self, *, now: datetime, reason: str) -> None:
        if self.ended_at is None:
            self.ended_at = now
            self.end_reason = reason
            self.handoff_hash = None
