"""The tenant's clock: the time zone its people read times in (tenant setting ``timezone``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.models import Tenant
from services.actor import Actor
from services.uow import UnitOfWork

DEFAULT_ZONE = "UTC"


def zone_name(tenant: Tenant | None) -> str:
    """The tenant's IANA time zone name; UTC when it is unset or not a known zone."""
    raw = ((tenant.settings or {}) if tenant else {}).get("timezone")
    if not isinstance(raw, str) or not raw or len(raw) > 64 or "\x00" in raw:
        return DEFAULT_ZONE
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        return DEFAULT_ZONE
    return raw


def time_zone(*, actor: Actor) -> str:
    """The time zone the actor's tenant reads times in."""
    with UnitOfWork(actor, readonly=True) as uow:
        return zone_name(uow.session.get(Tenant, actor.tenant_id))
