"""The tenant's map from repository paths to services (monorepos, configuration repositories).

A commit touching ``services/auth/limits.py`` in a monorepo, or ``auth/limits.yaml`` in a
configuration repository, is a change to ``auth`` even when the commit names no service. Each
entry maps a path prefix (optionally starting with the repository, ``acme/config/auth/``) to a
service; the longest matching prefix wins; without an entry a top folder named like a known
service counts for it. Stored in ``Tenant.settings["service_paths"]``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from domain.models import Tenant
from services import audit
from services.actor import Actor
from services.errors import InvalidInput, NotFound
from services.permissions import Action, require
from services.uow import UnitOfWork

SETTINGS_KEY = "service_paths"
MAX_ENTRIES = 200


class ServicePath(BaseModel):
    prefix: str = Field(min_length=1, max_length=300)
    service: str = Field(min_length=1, max_length=100)


def load(session: Session, tenant_id: int) -> list[tuple[str, str]]:
    """The tenant's (prefix, service) pairs (inside an open unit of work); damaged ones skipped."""
    tenant = session.get(Tenant, tenant_id)
    raw = (tenant.settings or {}).get(SETTINGS_KEY) if tenant is not None else None
    out: list[tuple[str, str]] = []
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, dict):
            prefix, service = entry.get("prefix"), entry.get("service")
            if isinstance(prefix, str) and isinstance(service, str) and prefix and service:
                out.append((prefix, service))
    return out


def get_map(*, actor: Actor) -> list[ServicePath]:
    """The tenant's path-to-service map."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    with UnitOfWork(actor, readonly=True) as uow:
        return [ServicePath(prefix=p, service=s) for p, s in load(uow.session, actor.tenant_id)]


def parse(text: str) -> list[ServicePath]:
    """Entries from lines like ``services/auth/ = auth`` (blank and ``#`` lines skipped)."""
    out: list[ServicePath] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        prefix, sep, service = line.partition("=")
        if not sep or not prefix.strip() or not service.strip():
            raise InvalidInput(f"Line {number} should read 'path/prefix/ = service'.")
        if len(prefix.strip()) > 300 or len(service.strip()) > 100:
            raise InvalidInput(f"Line {number} is too long (300 for a path, 100 for a service).")
        out.append(ServicePath(prefix=prefix.strip().lstrip("/"), service=service.strip()))
    return out


def set_map(*, actor: Actor, entries: list[ServicePath]) -> list[ServicePath]:
    """Replace the tenant's path-to-service map."""
    require(actor, Action.EDIT_INVESTIGATION)
    if len(entries) > MAX_ENTRIES:
        raise InvalidInput(f"The map holds at most {MAX_ENTRIES} entries.")
    clean: dict[str, str] = {}
    for e in entries:
        clean[e.prefix.strip().lstrip("/")] = e.service.strip()
    if any(not p or not s for p, s in clean.items()):
        raise InvalidInput("Every entry needs a path prefix and a service.")
    after = [{"prefix": p, "service": s} for p, s in sorted(clean.items())]
    with UnitOfWork(actor) as uow:
        tenant = uow.session.get(Tenant, actor.tenant_id)
        if tenant is None:
            raise NotFound(f"There is no tenant #{actor.tenant_id}.")
        before = (tenant.settings or {}).get(SETTINGS_KEY, [])
        tenant.settings = {**(tenant.settings or {}), SETTINGS_KEY: after}
        audit.record(
            uow,
            action="service_paths.set",
            entity_type="tenant",
            entity_id=tenant.id,
            before={"service_paths": before},
            after={"service_paths": after},
        )
        uow.commit()
    return [ServicePath.model_validate(e) for e in after]
