"""Who is signed in: the enabled modes, demo sign-in (loopback only), and re-checking a user."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from domain.enums import Role
from domain.models import Tenant, User
from services import workspaces
from services.actor import Actor
from services.config import get_settings
from services.errors import NotFound, PermissionDenied
from services.identity.model import SignedInUser, signed_in
from services.identity.oidc import oidc_sign_in, provider_settings
from services.identity.return_path import (
    RETURN_COOKIE,
    RETURN_TTL_S,
    local_target,
    open_return_path,
    seal_return_path,
)
from services.identity.sessions import COOKIE_NAME, claim_handoff, end_session, resume_session
from services.identity.sign_in import SignInResult, password_sign_in, proxy_sign_in
from services.permissions import Action, can
from services.uow import UnitOfWork

__all__ = [
    "COOKIE_NAME",
    "RETURN_COOKIE",
    "RETURN_TTL_S",
    "Action",
    "Actor",
    "Role",
    "SignInResult",
    "SignedInUser",
    "can_do",
    "claim_handoff",
    "demo_sign_in",
    "end_session",
    "list_demo_users",
    "local_target",
    "oidc_sign_in",
    "open_return_path",
    "password_sign_in",
    "proxy_sign_in",
    "resume_session",
    "seal_return_path",
]


def enabled_modes() -> frozenset[str]:
    """The sign-in modes this console offers (REVO_AUTH_MODE)."""
    return get_settings().auth_modes


def oidc_provider_settings() -> dict[str, Any]:
    """Streamlit's ``[auth]`` secrets section for st.login ({} unless oidc mode is on)."""
    return provider_settings()


def session_max_age_seconds() -> float:
    """How long a session cookie may live at most (REVO_SESSION_ABSOLUTE_HOURS)."""
    return get_settings().session_absolute_hours * 3600


def proxy_vouches(*, presented: str | None) -> bool:
    """Whether a request's proxy secret header proves it came through the authenticating proxy
    (always, when no REVO_PROXY_SHARED_SECRET is set: then the network must ensure it)."""
    shared = get_settings().proxy_shared_secret
    if shared is None:
        return True
    return presented is not None and hmac.compare_digest(
        presented.encode("utf-8", "replace"), shared.get_secret_value().encode()
    )


def proxy_secret_header() -> str:
    """The header the authenticating proxy sends its shared secret in (REVO_PROXY_SECRET_HEADER)."""
    return get_settings().proxy_secret_header


def proxy_headers() -> tuple[str, str]:
    """The (email, user) headers an authenticating proxy sets (REVO_PROXY_*_HEADER)."""
    settings = get_settings()
    return settings.proxy_email_header, settings.proxy_user_header


class DemoUserRead(BaseModel):
    user_id: int
    email: str
    display_name: str
    role: Role
    tenant_name: str


def is_loopback(address: str) -> bool:
    """Whether a listen address only accepts connections from this machine."""
    if address in {"localhost", ""}:
        return address == "localhost"
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def demo_mode_refusal(*, server_address: str | None) -> str | None:
    """Why demo sign-in may not run on this address, or None when it may."""
    if "demo" not in get_settings().auth_modes:
        return (
            "Sign-in is not configured. Set REVO_AUTH_MODE to password, oidc or proxy "
            "(or start the demo with REVO_AUTH_MODE=demo)."
        )
    if server_address is None or not is_loopback(server_address):
        return (
            f"Demo sign-in is refused on address {server_address or '0.0.0.0 (all)'}: "
            "it only runs on a loopback address such as 127.0.0.1 or localhost."
        )
    return None


def list_demo_users() -> list[DemoUserRead]:
    """Every active user of every tenant, for the demo sign-in picker."""
    if "demo" not in get_settings().auth_modes:
        raise PermissionDenied("Demo sign-in is turned off (REVO_AUTH_MODE is not demo).")
    with UnitOfWork(None, readonly=True) as uow:
        rows = uow.session.execute(
            select(User, Tenant.name)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(User.is_active.is_(True))
            .order_by(Tenant.name, User.role, User.email)
        ).all()
        return [
            DemoUserRead(
                user_id=u.id,
                email=u.email,
                display_name=u.display_name,
                role=u.role,
                tenant_name=tenant_name,
            )
            for u, tenant_name in rows
        ]


def demo_sign_in(*, user_id: int) -> SignedInUser:
    """Sign in as a seeded user (demo mode only)."""
    if "demo" not in get_settings().auth_modes:
        raise PermissionDenied("Demo sign-in is turned off (REVO_AUTH_MODE is not demo).")
    with UnitOfWork(None, readonly=True) as uow:
        row = uow.session.execute(
            select(User, Tenant.name)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(User.id == user_id, User.is_active.is_(True))
        ).first()
        if row is None:
            raise NotFound(f"There is no active user #{user_id}.")
        user, tenant_name = row
        return SignedInUser(
            actor=Actor(
                user_id=user.id, tenant_id=user.tenant_id, role=user.role, label=user.display_name
            ),
            email=user.email,
            display_name=user.display_name,
            tenant_name=tenant_name,
        )


def refresh_user(*, user_id: int, method: str) -> SignedInUser | None:
    """The user re-read now (role, tenant), or None when they were deactivated or removed."""
    with UnitOfWork(None, readonly=True) as uow:
        row = uow.session.execute(
            select(User, Tenant)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(User.id == user_id, User.is_active.is_(True))
        ).first()
        return signed_in(row[0], row[1], method) if row else None


def is_platform_admin(*, actor: Actor) -> bool:
    """Whether the person may open workspaces (REVO_PLATFORM_ADMINS; pages show Workspaces)."""
    return workspaces.is_platform_admin(actor=actor)


def can_do(*, actor: Actor, action: Action) -> bool:
    """Whether the actor may do the action (pages use it to decide what to show)."""
    return can(actor, action)
