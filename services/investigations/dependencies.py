"""The editable service dependency list: which services a service depends on."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from domain.models import ServiceDependency
from services import audit
from services.actor import Actor
from services.errors import InvalidInput
from services.permissions import Action, require
from services.uow import UnitOfWork


def of(session: Session, *, service: str) -> list[str]:
    """The services ``service`` depends on (inside an open unit of work)."""
    return list(
        session.scalars(
            select(ServiceDependency.depends_on)
            .where(ServiceDependency.service == service)
            .order_by(ServiceDependency.depends_on)
        )
    )


def list_all(*, actor: Actor) -> dict[str, list[str]]:
    """Every service with the services it depends on."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.execute(
            select(ServiceDependency.service, ServiceDependency.depends_on).order_by(
                ServiceDependency.service, ServiceDependency.depends_on
            )
        ).all()
    out: dict[str, list[str]] = {}
    for service, dep in rows:
        out.setdefault(service, []).append(dep)
    return out


def set_for(*, actor: Actor, service: str, depends_on: list[str]) -> list[str]:
    """Replace what a service depends on."""
    require(actor, Action.EDIT_INVESTIGATION)
    name = service.strip()
    deps = sorted({d.strip() for d in depends_on if d.strip()} - {name})
    if not name or len(name) > 100 or any(len(d) > 100 for d in deps):
        raise InvalidInput("Service names must be 1 to 100 characters.")
    with UnitOfWork(actor) as uow:
        before = of(uow.session, service=name)
        uow.session.execute(
            delete(ServiceDependency).where(
                ServiceDependency.tenant_id == actor.tenant_id, ServiceDependency.service == name
            )
        )
        uow.session.add_all(
            ServiceDependency(tenant_id=actor.tenant_id, service=name, depends_on=d) for d in deps
        )
        audit.record(
            uow,
            action="service_dependencies.set",
            entity_type="service",
            entity_id=None,
            before={"service": name, "depends_on": before},
            after={"service": name, "depends_on": deps},
        )
        uow.commit()
    return deps
