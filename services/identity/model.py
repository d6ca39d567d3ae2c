"""Who is signed in, as pages see it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.models import AuditEntry, Tenant, User
from services import audit
from services.actor import Actor
from services.uow import UnitOfWork


class SignedInUser(BaseModel):
    model_config = ConfigDict(frozen=True)

    actor: Actor
    email: str
    display_name: str
    tenant_name: str
    method: str = "demo"
    oidc_subject: str | None = None


def signed_in(user: User, tenant: Tenant, method: str) -> SignedInUser:
    """The DTO for a user row that has just been (re)confirmed as signed in."""
    return SignedInUser(
        actor=Actor(
            user_id=user.id, tenant_id=user.tenant_id, role=user.role, label=user.display_name
        ),
        email=user.email,
        display_name=user.display_name,
        tenant_name=tenant.name,
        method=method,
        oidc_subject=user.oidc_subject,
    )


def audit_as(
    uow: UnitOfWork, user: User, *, action: str, after: dict[str, Any] | None = None
) -> AuditEntry:
    """An audit entry of the user's own sign-in event (the unit of work has no actor yet)."""
    entry = audit.record(
        uow,
        action=action,
        entity_type="user",
        entity_id=user.id,
        after=after,
        tenant_id=user.tenant_id,
    )
    entry.actor_id = user.id
    entry.actor_label = user.display_name
    return entry
