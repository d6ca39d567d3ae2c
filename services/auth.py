"""Who is signed in. Until real sign-in lands, a demo sign-in picks a seeded user."""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from domain.enums import Role
from domain.models import Tenant, User
from services.actor import Actor
from services.config import get_settings
from services.errors import NotFound, PermissionDenied
from services.permissions import Action, can
from services.uow import UnitOfWork

__all__ = ["Action", "Actor", "Role", "SignedInUser", "can_do", "demo_sign_in", "list_demo_users"]


class SignedInUser(BaseModel):
    model_config = ConfigDict(frozen=True)

    actor: Actor
    email: str
    display_name: str
    tenant_name: str


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
    if get_settings().auth_mode != "demo":
        return "Sign-in is not configured. Start the console with REVO_AUTH_MODE=demo."
    if server_address is None or not is_loopback(server_address):
        return (
            f"Demo sign-in is refused on address {server_address or '0.0.0.0 (all)'}: "
            "it only runs on a loopback address such as 127.0.0.1 or localhost."
        )
    return None


def list_demo_users() -> list[DemoUserRead]:
    """Every active user of every tenant, for the demo sign-in picker."""
    if get_settings().auth_mode != "demo":
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
    if get_settings().auth_mode != "demo":
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


def can_do(*, actor: Actor, action: Action) -> bool:
    """Whether the actor may do the action (pages use it to decide what to show)."""
    return can(actor, action)
