from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from domain.base import Base, BigId, TenantScoped, Timestamped, str_enum
from domain.enums import Role


class Tenant(Timestamped, Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class User(TenantScoped, Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        UniqueConstraint("oidc_issuer", "oidc_subject", name="uq_users_oidc_identity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Sign-in. A password hash is argon2id's encoded string; the TOTP secret is base32, encrypted.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(String(255))  # sealed: secret_box
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # refuses a replayed code
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    locked_until: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def record_failed_sign_in(
        self, *, now: datetime, max_failures: int, base_s: float, max_s: float
    ) -> bool:
        """Count a failed sign-in; lock the account with back-off. True when this locked it."""
        self.failed_sign_ins = (self.failed_sign_ins or 0) + 1
        seconds = lockout_seconds(
            self.failed_sign_ins, max_failures=max_failures, base_s=base_s, max_s=max_s
        )
        if seconds <= 0:
            return False
        self.locked_until = now + timedelta(seconds=seconds)
        return True

    def record_sign_in(self, *, now: datetime) -> None:
        self.failed_sign_ins = 0
        self.locked_until = None
        self.last_sign_in_at = now


Index("ix_users_tenant_role", User.tenant_id, User.role)


def lockout_seconds(failures: int, *, max_failures: int, base_s: float, max_s: float) -> float:
    """How long an account stays locked after this many failures in a row (0: not locked).

    The first lockout comes at ``max_failures``; every further failure doubles it, up to ``max_s``.
    """
    if failures < max_failures:
        return 0.0
    return float(min(max_s, base_s * 2 ** (failures - max_failures)))
