"""Password sign-in (argon2id, lockout with back-off, optional TOTP) and trusted-proxy sign-in.

Every failure says the same thing, whether the email is unknown, the password wrong or the
account locked, so nobody learns which accounts exist; the slow hash runs either way.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime

import pyotp
from pydantic import BaseModel
from sqlalchemy import func, select

from domain.base import utcnow
from domain.models import Tenant, User
from services.config import get_settings
from services.errors import InvalidInput, PermissionDenied
from services.identity import passwords, rate_limit, secret_box, sessions
from services.identity.model import SignedInUser, audit_as, signed_in
from services.uow import UnitOfWork

log = logging.getLogger(__name__)

GENERIC_FAILURE = (
    "Sign-in failed: the email, password or code is not right, or the account is locked for a "
    "while after repeated failures. Check and try again, or ask an admin."
)
NEED_CODE = "Enter the 6-digit code from your authenticator app."
MAX_EMAIL = 254
TOO_MANY = (
    "Too many failed sign-ins from your network address. Wait about {minutes} minute(s) and "
    "try again, or ask an admin."
)


class SignInResult(BaseModel):
    user: SignedInUser
    token: str
    handoff_code: str


def require_mode(mode: str) -> None:
    if mode not in get_settings().auth_modes:
        raise PermissionDenied(f"{mode.title()} sign-in is turned off (REVO_AUTH_MODE).")


def _candidates(uow: UnitOfWork, email: str, workspace: str) -> list[tuple[User, Tenant]]:
    query = (
        select(User, Tenant)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(func.lower(User.email) == email, User.is_active.is_(True))
        .order_by(User.id)
    )
    if workspace:
        query = query.where(Tenant.slug == workspace)
    return [(u, t) for u, t in uow.session.execute(query).all()]


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step the code belongs to (now or one step either side), or None."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    for offset in (0, -1, 1):
        at = now.timestamp() + offset * totp.interval
        if hmac.compare_digest(totp.at(at), code):
            return int(at // totp.interval)
    return None


def _fail(uow: UnitOfWork, user: User, now: datetime, reason: str) -> None:
    settings = get_settings()
    locked = user.record_failed_sign_in(
        now=now,
        max_failures=settings.auth_max_failures,
        base_s=settings.auth_lockout_base_s,
        max_s=settings.auth_lockout_max_s,
    )
    audit_as(
        uow,
        user,
        action="auth.sign_in_failed",
        after={"reason": reason, "failures": user.failed_sign_ins},
    )
    if locked:
        audit_as(
            uow, user, action="auth.locked_out",
            after={"until": user.locked_until.isoformat() if user.locked_until else None},
        )  # fmt: skip


def _check_address(address: str) -> None:
    settings = get_settings()
    wait = rate_limit.FAILURES.retry_after(
        address, limit=settings.auth_ip_max_failures, window_s=settings.auth_ip_window_s
    )
    if wait > 0:
        log.warning("sign-in refused: too many failures from one address")
        raise InvalidInput(TOO_MANY.format(minutes=max(1, round(wait / 60))))


def password_sign_in(
    *, email: str, password: str, totp_code: str = "", workspace: str = "", client_address: str = ""
) -> SignInResult:
    """Check a password (and TOTP code when the user has one) and open a session."""
    require_mode("password")
    address = client_address.strip()[:64] or "local"
    _check_address(address)
    try:
        return _password_sign_in(email=email, password=password, totp_code=totp_code,
                                 workspace=workspace)  # fmt: skip
    except InvalidInput as exc:
        if exc.message != NEED_CODE:
            rate_limit.FAILURES.record_failure(address, window_s=get_settings().auth_ip_window_s)
        raise


def _password_sign_in(*, email: str, password: str, totp_code: str, workspace: str) -> SignInResult:
    email = email.strip().lower()[: MAX_EMAIL + 1]
    workspace = workspace.strip().lower()[:64]
    now = utcnow()
    with UnitOfWork(None) as uow:
        candidates = _candidates(uow, email, workspace) if 0 < len(email) <= MAX_EMAIL else []
        matches = [
            (u, t) for u, t in candidates if passwords.verify_password(u.password_hash, password)
        ]
        if not candidates:
            passwords.verify_password(None, password)  # same cost as a real check
            log.info("sign-in failed for an unknown email", extra={"workspace": workspace or None})
            raise InvalidInput(GENERIC_FAILURE)
        if len(matches) > 1:
            raise InvalidInput(
                "This email has accounts in several workspaces; enter the workspace too."
            )
        if not matches:
            for user, _tenant in candidates:
                _fail(uow, user, now, "wrong password")
            uow.commit()
            raise InvalidInput(GENERIC_FAILURE)
        user, tenant = matches[0]
        if user.is_locked(now):
            _fail(uow, user, now, "locked")
            uow.commit()
            raise InvalidInput(GENERIC_FAILURE)
        if user.totp_secret:
            if not totp_code.strip():
                raise InvalidInput(NEED_CODE)
            step = totp_step(secret_box.unseal_totp(user.totp_secret), totp_code, now)
            if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
                _fail(uow, user, now, "wrong or reused code")
                uow.commit()
                raise InvalidInput(GENERIC_FAILURE)
            user.totp_last_step = step
        if user.password_hash and passwords.needs_rehash(user.password_hash):
            user.password_hash = passwords.hash_password(password)
        return _open(uow, user, tenant, "password", now)


def _open(uow: UnitOfWork, user: User, tenant: Tenant, method: str, now: datetime) -> SignInResult:
    user.record_sign_in(now=now)
    token, code = sessions.open_session(uow, user=user, method=method, now=now)
    audit_as(uow, user, action="auth.signed_in", after={"method": method})
    uow.commit()
    return SignInResult(user=signed_in(user, tenant, method), token=token, handoff_code=code)


def proxy_sign_in(*, email: str) -> SignInResult:
    """Sign in the user an authenticating proxy vouched for (its header, proxy mode only)."""
    require_mode("proxy")
    email = email.strip().lower()
    if not email or len(email) > MAX_EMAIL:
        raise PermissionDenied("The proxy sent no usable identity.")
    now = utcnow()
    with UnitOfWork(None) as uow:
        candidates = _candidates(uow, email, "")
        if len(candidates) != 1:
            log.info("proxy identity refused", extra={"matches": len(candidates)})
            raise PermissionDenied(
                "Your identity is not linked to exactly one active user of Revo Console. "
                "Ask an admin to add you."
            )
        user, tenant = candidates[0]
        return _open(uow, user, tenant, "proxy", now)
