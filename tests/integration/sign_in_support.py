"""Helpers for the sign-in tests: known passwords, reading audit actions, moving time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
from pydantic import SecretStr
from sqlalchemy import select, update

from domain.base import utcnow
from domain.enums import Role
from domain.models import AuditEntry, AuthSession, User
from services import people
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork

NORTH_PASSWORD = "amber-Falcon-rides-97"
SOUTH_PASSWORD = "quiet-Harbour-lamps-42"
TOTP_KEY = "a-test-totp-encryption-key-of-40-characters"


def give_password(tenant: TenantWithUsers, role: Role, password: str) -> str:
    """Set a user's password through the people service; return their email."""
    user = tenant.users[role]
    people.reset_password(
        actor=tenant.actor(Role.ADMIN), user_id=user.id, new_password=SecretStr(password)
    )
    return user.email


def enrol_totp(tenant: TenantWithUsers, role: Role) -> pyotp.TOTP:
    """Turn on TOTP for a user as they would themselves; return their authenticator."""
    actor = tenant.actor(role)
    enrollment = people.new_totp_enrollment(actor=actor)
    totp = pyotp.TOTP(enrollment.secret)
    # Confirm with the previous step's code, so the sign-in that follows may use the current one.
    previous = totp.at(utcnow() - timedelta(seconds=totp.interval))
    people.confirm_totp(actor=actor, secret=enrollment.secret, code=previous)
    return totp


def actions(tenant_id: int, entity_id: int | None = None) -> list[str]:
    with UnitOfWork(None, readonly=True) as uow:
        query = select(AuditEntry.action).where(AuditEntry.tenant_id == tenant_id)
        if entity_id is not None:
            query = query.where(AuditEntry.entity_id == entity_id)
        return list(uow.session.scalars(query.order_by(AuditEntry.id)).all())


def shift_sessions(user_id: int, **columns: Any) -> None:
    """Move a user's sessions' times (as if time had passed)."""
    with UnitOfWork(None) as uow:
        uow.session.execute(
            update(AuthSession).where(AuthSession.user_id == user_id).values(**columns)
        )
        uow.commit()


def unlock_clock(user_id: int) -> None:
    """As if the lockout had run out."""
    with UnitOfWork(None) as uow:
        uow.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
        uow.commit()
