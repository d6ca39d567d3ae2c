"""Workspaces (tenants) created from the console by platform admins (REVO_PLATFORM_ADMINS).

A platform admin is a person, named by email in the settings, who may open new workspaces and
give each its first admin; inside any workspace they are only what their own account's role
says. `revo tenants create` does the same from the command line.
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import func, select

from domain.enums import Role
from domain.models import Tenant, User
from services import audit, people
from services.actor import Actor
from services.config import get_settings, platform_admin_emails
from services.errors import Conflict, PermissionDenied
from services.tenants import TenantRead, validated_workspace
from services.uow import UnitOfWork


class WorkspaceRow(BaseModel):
    id: int
    slug: str
    name: str
    users: int
    jit_signup: bool


def is_platform_admin(*, actor: Actor) -> bool:
    """Whether this signed-in person may create workspaces (never an API token)."""
    emails = platform_admin_emails(get_settings())
    if not emails or actor.token_id is not None:
        return False
    with UnitOfWork(None, readonly=True) as uow:
        user = uow.session.get(User, actor.user_id)
        return user is not None and user.is_active and user.email.lower() in emails


def _require(actor: Actor) -> None:
    if not is_platform_admin(actor=actor):
        raise PermissionDenied("Only a platform admin (REVO_PLATFORM_ADMINS) manages workspaces.")


def list_workspaces(*, actor: Actor) -> list[WorkspaceRow]:
    """Every workspace with its number of users (platform admins only)."""
    _require(actor)
    with UnitOfWork(None, readonly=True) as uow:
        counts = dict(
            uow.session.execute(select(User.tenant_id, func.count()).group_by(User.tenant_id)).all()
        )
        return [
            WorkspaceRow(
                id=t.id,
                slug=t.slug,
                name=t.name,
                users=int(counts.get(t.id, 0)),
                jit_signup=bool((t.settings or {}).get("jit_signup")),
            )
            for t in uow.session.scalars(select(Tenant).order_by(Tenant.slug))
        ]


def create_workspace(
    *,
    actor: Actor,
    slug: str,
    name: str,
    first_admin: people.PersonCreate,
    jit_signup: bool = False,
) -> TenantRead:
    """Open a workspace with its first admin, in one transaction (platform admins only)."""
    _require(actor)
    slug, name = validated_workspace(slug, name)
    admin_in = first_admin.model_copy(update={"role": Role.ADMIN})
    with UnitOfWork(None) as uow:
        if uow.session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
            raise Conflict(f"There is already a workspace {slug!r}.")
        tenant = Tenant(slug=slug, name=name, settings={"jit_signup": jit_signup})
        uow.session.add(tenant)
        uow.session.flush()
        user = people.add_user(uow, tenant_id=tenant.id, person_in=admin_in)
        by = {"by": actor.label, "by_user_id": actor.user_id, "by_tenant_id": actor.tenant_id}
        audit.record(
            uow, action="tenant.created", entity_type="tenant", entity_id=tenant.id,
            tenant_id=tenant.id, after={"slug": slug, "name": name, "jit_signup": jit_signup, **by},
        )  # fmt: skip
        audit.record(
            uow, action="user.created", entity_type="user", entity_id=user.id,
            tenant_id=tenant.id,
            after={"email": user.email, "role": user.role.value,
                   "password": user.password_hash is not None, **by},
        )  # fmt: skip
        uow.commit()
        return TenantRead.model_validate(tenant)
