"""The one place a tenant's review policy is read (from ``Tenant.settings``) and changed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.enums import ReviewKind, ReviewStatus, Role
from domain.models import ReviewItem, Tenant
from domain.policy_settings import policy_from_settings
from domain.review_policy import ReviewPolicy, check_may_decide
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
    triggerer_may_approve: dict[ReviewKind, bool]
    auto_expire: dict[ReviewKind, bool]


class PolicyPreview(BaseModel):
    """What a proposed policy would change for the tenant's pending items."""

    pending: int
    change_deciders: int  # who may decide, four-eyes or self-approval differs for these
    retimed: int  # their due or expiry time moves


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


def _merged(session: Session, tenant_id: int, policy_in: dict[str, Any]) -> ReviewPolicy:
    current = load(session, tenant_id).to_settings()
    for key, value in policy_in.items():
        if isinstance(value, dict) and isinstance(current.get(key), dict):
            current[key] = {**current[key], **value}
        else:
            current[key] = value
    try:
        return policy_from_settings({SETTINGS_KEY: current})
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"The review policy is not valid: {exc}") from exc


def _deciding_changes(old: ReviewPolicy, new: ReviewPolicy, item: ReviewItem) -> bool:
    kind = item.kind
    return (
        old.deciders.get(kind) != new.deciders.get(kind)
        or old.needs_second_approver(kind, item.amount)
        != new.needs_second_approver(kind, item.amount)
        or (
            item.triggered_by_id is not None
            and old.triggerer_may_approve.get(kind, False)
            != new.triggerer_may_approve.get(kind, False)
        )
    )


def _new_times(new: ReviewPolicy, item: ReviewItem) -> tuple[Any, Any] | None:
    due, expires = (
        new.due_at(item.kind, item.created_at),
        new.expires_at(item.kind, item.created_at),
    )
    return None if (due, expires) == (item.due_at, item.expires_at) else (due, expires)


def _pending(session: Session) -> list[ReviewItem]:
    return list(
        session.scalars(select(ReviewItem).where(ReviewItem.status == ReviewStatus.PENDING))
    )


def preview_policy(*, actor: Actor, policy_in: dict[str, Any]) -> PolicyPreview:
    """How many pending items the proposed policy changes (deciders, due and expiry times)."""
    require(actor, Action.MANAGE_POLICIES)
    with UnitOfWork(actor, readonly=True) as uow:
        old = load(uow.session, actor.tenant_id)
        new = _merged(uow.session, actor.tenant_id, policy_in)
        pending = _pending(uow.session)
        return PolicyPreview(
            pending=len(pending),
            change_deciders=sum(_deciding_changes(old, new, i) for i in pending),
            retimed=sum(_new_times(new, i) is not None for i in pending),
        )


def update_policy(*, actor: Actor, policy_in: dict[str, Any]) -> ReviewPolicyRead:
    """Replace parts of the tenant's review policy (keys left out keep their current value);
    pending items take the new due and expiry times at once (deciding rules apply anyway)."""
    require(actor, Action.MANAGE_POLICIES)
    with UnitOfWork(actor) as uow:
        tenant = uow.session.get(Tenant, actor.tenant_id)
        if tenant is None:
            raise NotFound(f"There is no tenant #{actor.tenant_id}.")
        current = load(uow.session, actor.tenant_id).to_settings()
        policy = _merged(uow.session, actor.tenant_id, policy_in)
        after = policy.to_settings()
        retimed = 0
        for item in _pending(uow.session):
            times = _new_times(policy, item)
            if times is not None:
                item.due_at, item.expires_at = times
                retimed += 1
        tenant.settings = {**(tenant.settings or {}), SETTINGS_KEY: after}
        changed = [k for k in after if after[k] != current.get(k)]
        audit.record(
            uow,
            action="review_policy.updated",
            entity_type="tenant",
            entity_id=tenant.id,
            before={k: current.get(k) for k in changed},
            after={k: after[k] for k in changed},
            reason=f"{retimed} pending items re-timed" if retimed else None,
        )
        uow.commit()
        return _read(policy)


def check_decider(policy: ReviewPolicy, item: ReviewItem, actor: Actor, *, approving: bool) -> None:
    """Raise PolicyRefusal unless the policy lets the actor decide (or approve) this item."""
    check_may_decide(
        policy,
        kind=item.kind,
        role=actor.role,
        user_id=actor.user_id,
        triggered_by_id=item.triggered_by_id,
        approving=approving,
    )
