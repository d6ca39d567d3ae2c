"""Server-side sessions. The browser holds an opaque token (an HttpOnly cookie); the database
holds its SHA-256, the idle and absolute expiry, and whether it was ended."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from domain.base import utcnow
from domain.models import AuthSession, Tenant, User
from services.config import get_settings
from services.identity.model import SignedInUser, audit_as, signed_in
from services.uow import UnitOfWork

COOKIE_NAME = "revo_session"
HANDOFF_SECONDS = 60
TOUCH_EVERY_S = 30  # refresh last_seen_at at most this often (one write per interaction at most)
MAX_TOKEN_LENGTH = 128


def digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _idle_seconds() -> float:
    return get_settings().session_idle_minutes * 60


def open_session(uow: UnitOfWork, *, user: User, method: str, now: datetime) -> tuple[str, str]:
    """Add a session for the user to the unit of work; return (token, one-time handoff code)."""
    token, code = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    uow.session.add(
        AuthSession(
            tenant_id=user.tenant_id,
            user_id=user.id,
            token_hash=digest(token),
            handoff_hash=digest(code),
            handoff_expires_at=now + timedelta(seconds=HANDOFF_SECONDS),
            method=method,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=get_settings().session_absolute_hours),
        )
    )
    return token, code


def _load(uow: UnitOfWork, token: str) -> AuthSession | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    wanted = digest(token)
    row = uow.session.scalar(select(AuthSession).where(AuthSession.token_hash == wanted))
    # The lookup is by hash; compare again in constant time all the same.
    if row is None or not hmac.compare_digest(row.token_hash, wanted):
        return None
    return row


def resume_session(*, token: str) -> SignedInUser | None:
    """The user a live session belongs to, re-read now (role, deactivation); None if it is over."""
    now = utcnow()
    with UnitOfWork(None) as uow:
        row = _load(uow, token)
        if row is None or row.ended_at is not None:
            return None
        found = uow.session.execute(
            select(User, Tenant)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(User.id == row.user_id)
        ).first()
        if found is None:
            return None
        user, tenant = found
        if not user.is_active:
            row.end(now=now, reason="deactivated")
        elif row.method not in get_settings().auth_modes:
            row.end(now=now, reason="mode_off")
        elif not row.is_live(now, _idle_seconds()):
            row.end(now=now, reason="expired")
            audit_as(uow, user, action="auth.session_expired", after={"session_id": row.id})
        elif (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY_S:
            row.last_seen_at = now
        else:
            return signed_in(user, tenant, row.method)
        uow.commit()
        return signed_in(user, tenant, row.method) if row.ended_at is None else None


def claim_handoff(*, code: str) -> str | None:
    """Trade a fresh one-time code for a new token of its session (the cookie's value)."""
    now = utcnow()
    if not code or len(code) > MAX_TOKEN_LENGTH:
        return None
    with UnitOfWork(None) as uow:
        row = uow.session.scalar(
            select(AuthSession).where(AuthSession.handoff_hash == digest(code))
        )
        if row is None or row.ended_at is not None:
            return None
        if row.handoff_expires_at is None or now >= row.handoff_expires_at:
            row.handoff_hash = None
            uow.commit()
            return None
        token = secrets.token_urlsafe(32)
        row.token_hash = digest(token)  # the token the page saw stops working: the cookie's wins
        row.handoff_hash = None
        row.handoff_expires_at = None
        uow.commit()
        return token


def end_session(*, token: str, reason: str = "signed_out") -> None:
    """End the session on the server (sign-out); a stale or unknown token is ignored."""
    now = utcnow()
    with UnitOfWork(None) as uow:
        row = _load(uow, token)
        if row is None or row.ended_at is not None:
            return
        row.end(now=now, reason=reason)
        user = uow.session.get(User, row.user_id)
        if user is not None:
            audit_as(
                uow,
                user,
                action="auth.signed_out",
                after={"session_id": row.id, "method": row.method},
            )
        uow.commit()


def end_all_for_user(uow: UnitOfWork, *, user_id: int, now: datetime, reason: str) -> int:
    """End every live session of a user inside the caller's unit of work; return how many."""
    result = uow.session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason, handoff_hash=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
