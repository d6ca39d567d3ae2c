"""Decisions over the API: off unless a tenant names an integration user (then it is their act)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select

from domain.models import Tenant, User
from services import audit
from services.actor import Actor
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.permissions import Action, require
from services.uow import UnitOfWork

SETTINGS_KEY = "api_decisions_user_id"


class ApiDecisionsRead(BaseModel):
    user_id: int | None
    user_label: str | None


def set_integration_user(*, actor: Actor, user_id: int | None) -> ApiDecisionsRead:
    """Let API tokens with reviews:decide decide as this user (None turns it off)."""
    require(actor, Action.MANAGE_POLICIES)
    with UnitOfWork(actor) as uow:
        tenant = uow.session.get(Tenant, actor.tenant_id)
        if tenant is None:
            raise NotFound(f"There is no tenant #{actor.tenant_id}.")
        label = None
        if user_id is not None:
            user = uow.session.scalar(select(User).where(User.id == user_id, User.is_active))
            if user is None:
                raise InvalidInput(f"There is no active user #{user_id} in your tenant.")
            label = user.display_name
        before = {SETTINGS_KEY: (tenant.settings or {}).get(SETTINGS_KEY)}
        tenant.settings = {**(tenant.settings or {}), SETTINGS_KEY: user_id}
        audit.record(
            uow,
            action="api_decisions.updated",
            entity_type="tenant",
            entity_id=tenant.id,
            before=before,
            after={SETTINGS_KEY: user_id},
        )
        uow.commit()
        return ApiDecisionsRead(user_id=user_id, user_label=label)


def deciding_actor(*, token_actor: Actor) -> Actor:
    """The integration user a token decides as, or PermissionDenied when the tenant has none."""
    with UnitOfWork(token_actor, readonly=True) as uow:
        tenant = uow.session.get(Tenant, token_actor.tenant_id)
        user_id = (tenant.settings or {}).get(SETTINGS_KEY) if tenant else None
        user = (
            uow.session.scalar(select(User).where(User.id == user_id, User.is_active))
            if isinstance(user_id, int)
            else None
        )
        if user is None:
            raise PermissionDenied(
                "Decisions stay a person's act in the console: this tenant has not named an "
                "integration user for decisions over the API."
            )
        return Actor(
            user_id=user.id,
            tenant_id=user.tenant_id,
            role=user.role,
            label=f"{user.display_name} (via {token_actor.label})"[:200],
        )
