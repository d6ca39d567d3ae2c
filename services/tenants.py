"""Tenants and their users (system-level creation, used by seeding and tests)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from domain.enums import Role
from domain.models import Tenant, User
from services import audit
from services.actor import Actor
from services.errors import Conflict, InvalidInput, NotFound
from services.uow import UnitOfWork


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: int
    email: str
    display_name: str
    role: Role
    is_active: bool

    def as_actor(self) -> Actor:
        return Actor(
            user_id=self.id, tenant_id=self.tenant_id, role=self.role, label=self.display_name
        )


class TenantWithUsers(BaseModel):
    tenant: TenantRead
    users: dict[Role, UserRead]

    def actor(self, role: Role) -> Actor:
        return self.users[role].as_actor()


def create_tenant_with_users(*, slug: str, name: str, email_domain: str) -> TenantWithUsers:
    """Create a tenant with one user per role (system work: seeding and tests)."""
    with UnitOfWork(None) as uow:
        tenant = Tenant(slug=slug, name=name, settings={})
        uow.session.add(tenant)
        uow.session.flush()
        users = {}
        for role in Role:
            user = User(
                tenant_id=tenant.id,
                email=f"{role.value}@{email_domain}",
                display_name=f"{role.value.title()} {name.split()[0]}",
                role=role,
            )
            uow.session.add(user)
            users[role] = user
        uow.session.flush()
        audit.record(
            uow,
            action="tenant.created",
            entity_type="tenant",
            entity_id=tenant.id,
            after={"slug": slug, "name": name, "users": [u.email for u in users.values()]},
            tenant_id=tenant.id,
        )
        uow.commit()
        return TenantWithUsers(
            tenant=TenantRead.model_validate(tenant),
            users={role: UserRead.model_validate(u) for role, u in users.items()},
        )


SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def validated_workspace(slug: str, name: str) -> tuple[str, str]:
    """A workspace's slug and name, cleaned, or InvalidInput saying what is wrong."""
    slug = slug.strip().lower()
    name = name.strip()
    if not SLUG.match(slug):
        raise InvalidInput("A workspace slug is 2-63 lowercase letters, digits or dashes.")
    if not name or len(name) > 200 or "\x00" in name:
        raise InvalidInput("Give the workspace a name of at most 200 characters.")
    return slug, name


def create_tenant(*, slug: str, name: str, jit_signup: bool = False) -> TenantRead:
    """Create an empty workspace (system work: `revo tenants create`)."""
    slug, name = validated_workspace(slug, name)
    with UnitOfWork(None) as uow:
        if uow.session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
            raise Conflict(f"There is already a workspace {slug!r}.")
        tenant = Tenant(slug=slug, name=name, settings={"jit_signup": jit_signup})
        uow.session.add(tenant)
        uow.session.flush()
        audit.record(
            uow,
            action="tenant.created",
            entity_type="tenant",
            entity_id=tenant.id,
            after={"slug": slug, "name": name, "jit_signup": jit_signup},
            tenant_id=tenant.id,
        )
        uow.commit()
        return TenantRead.model_validate(tenant)


def find_tenant(*, slug: str) -> TenantRead | None:
    """The tenant with this slug, if there is one (system lookup)."""
    with UnitOfWork(None, readonly=True) as uow:
        row = uow.session.scalar(select(Tenant).where(Tenant.slug == slug))
        return TenantRead.model_validate(row) if row else None


def admin_actor(*, slug: str) -> Actor:
    """The tenant's first active admin, acting for an operator at the command line."""
    with UnitOfWork(None, readonly=True) as uow:
        tenant = uow.session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise NotFound(f"There is no tenant {slug!r}.")
        user = uow.session.scalar(
            select(User)
            .where(User.tenant_id == tenant.id, User.role == Role.ADMIN, User.is_active)
            .order_by(User.id)
        )
        if user is None:
            raise NotFound(f"Tenant {slug!r} has no active admin to act as.")
        return UserRead.model_validate(user).as_actor()


def member_actor(*, slug: str, email: str) -> Actor:
    """The tenant's active user with this email, acting at the command line as themselves."""
    address = email.strip().lower()
    with UnitOfWork(None, readonly=True) as uow:
        tenant = uow.session.scalar(select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            raise NotFound(f"There is no tenant {slug!r}.")
        user = uow.session.scalar(
            select(User).where(
                User.tenant_id == tenant.id, func.lower(User.email) == address, User.is_active
            )
        )
        if user is None:
            raise NotFound(f"Tenant {slug!r} has no active user {email!r} to act as.")
        return UserRead.model_validate(user).as_actor()
