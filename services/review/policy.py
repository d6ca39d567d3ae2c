"""The one place a tenant's review policy is read (from ``Tenant.settings``) and changed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from domain.enums import ReviewKind, Role
from domain.models import Tenant
from domain.review_policy import ReviewPolicy, policy_from_settings
from services import audit
from services.actor import Actor
from services.errors import InvalidInput, NotFound
from services.permissions import Action, require
from services.uow import UnitOfWork

SETTINGS_KEY = "review_policy"


class ReviewPolicyRead(BaseModel):
    deciders: dict[ReviewKind, list[Role]]
    four_eyes_limits: dict[ReviewKind, float | None]
    dunning_cadence_days: int
    outreach_cadence_days: int
    outreach_daily_limit: int
    sla_hours: dict[ReviewKind, float]
    expiry_hours: dict[ReviewKind, float]


def load(session: Session, tenant_id: int) -> ReviewPolicy:
    """The tenant's review policy, defaults filling whatever its settings leave out."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound(f"There is no tenant #{tenant_id}.")
    try:
        return policy_from_settings(tenant.settings)
    except ValueError:
        # A damaged stored policy must not open the gate: fall back to the strict defaults.
        return ReviewPolicy()


def _read(policy: ReviewPolicy) -> ReviewPolicyRead:
    raw = policy.to_settings()
    return ReviewPolicyRead.model_validate(raw)


def get_policy(*, actor: Actor) -> ReviewPolicyRead:
    """The actor's tenant's review policy."""
    require(actor, Action.VIEW_REVIEW_QUEUE)
    with UnitOfWork(actor, readonly=True) as uow:
        return _read(load(uow.session, actor.tenant_id))


def update_policy(*, actor: Actor, policy_in: dict[str, Any]) -> ReviewPolicyRead:
    """Replace parts of the tenant's review policy (keys left out keep their current value)."""
    require(actor, Action.MANAGE_POLICIES)
    with UnitOfWork(actor) as uow:
        tenant = uow.session.get(Tenant, actor.tenant_id)
        if tenant is None:
            raise NotFound(f"There is no tenant #{actor.tenant_id}.")
        current = load(uow.session, actor.tenant_id).to_settings()
        merged = {**current, **policy_in}
        try:
            policy = policy_from_settings({SETTINGS_KEY: merged})
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"The review policy is not valid: {exc}") from exc
        after = policy.to_settings()
        tenant.settings = {**(tenant.settings or {}), SETTINGS_KEY: after}
        audit.record(
            uow,
            action="review_policy.updated",
            entity_type="tenant",
            entity_id=tenant.id,
            before=current,
            after=after,
        )
        uow.commit()
        return _read(policy)
