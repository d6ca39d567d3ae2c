"""The audit writer. Every mutating service call records one entry in its own transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import inspect, select

from domain.models import AuditEntry
from services import audit_seal
from services.actor import Actor
from services.permissions import Action, require
from services.uow import UnitOfWork


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    actor_id: int | None
    actor_label: str
    action: str
    entity_type: str
    entity_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    created_at: datetime
    seq: int = 0
    entry_hash: str | None = None


def jsonable(value: Any) -> Any:
    """A JSON-safe copy of a column value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: object, fields: list[str] | None = None) -> dict[str, Any]:
    """The row's column values (or the named ones), JSON-safe, for before/after."""
    mapper = inspect(type(obj))
    names = fields or [c.key for c in mapper.column_attrs]
    return {name: jsonable(getattr(obj, name)) for name in names}


def record(
    uow: UnitOfWork,
    *,
    action: str,
    entity_type: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    tenant_id: int | None = None,
) -> AuditEntry:
    """Add one audit entry to the unit of work's transaction (it commits with the change)."""
    actor = uow.actor
    tid = tenant_id if tenant_id is not None else (actor.tenant_id if actor else None)
    if tid is None:
        raise ValueError("system audit entries need an explicit tenant_id")
    entry = AuditEntry(
        tenant_id=tid,
        actor_id=actor.user_id if actor else None,
        actor_label=actor.display if actor else "system",
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=reason,
    )
    # Queued, not added: the entry joins the chain at commit (services/audit_seal), after every
    # other lock of the transaction is held, so the chain lock never waits inside a lock cycle.
    audit_seal.enqueue(uow.session, entry)
    return entry


# Bookkeeping columns that change with every write (or only at flush): not part of a change.
_BOOKKEEPING = frozenset({"created_at", "updated_at", "row_version"})


@contextmanager
def changes(
    uow: UnitOfWork,
    row: Any,
    *,
    action: str,
    entity_type: str,
    fields: list[str],
    reason: str | None = None,
    tenant_id: int | None = None,
) -> Iterator[None]:
    """Audit what the block changes on ``row``: ``fields`` plus any other column that changed.

    Nothing is recorded when nothing changed. A block that raises still gets its entry (what it
    changed stays in the session until the caller rolls back, and then the entry goes too)."""
    before = snapshot(row)
    try:
        yield
    finally:
        after = snapshot(row)
        changed = [k for k in after if after[k] != before[k] and k not in _BOOKKEEPING]
        if changed:
            shown = list(dict.fromkeys([*fields, *changed]))
            record(
                uow,
                action=action,
                entity_type=entity_type,
                entity_id=row.id,
                before={k: before[k] for k in shown},
                after={k: after[k] for k in shown},
                reason=reason,
                tenant_id=tenant_id,
            )


def list_for_entity(
    *, actor: Actor, entity_type: str, entity_id: int, limit: int = 200
) -> list[AuditEntryRead]:
    """The audit trail of one entity, oldest first."""
    require(actor, Action.VIEW_AUDIT)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
            .order_by(AuditEntry.id)
            .limit(limit)
        ).all()
        return [AuditEntryRead.model_validate(r) for r in rows]


# The paged, filtered log (the audit page and its CSV export) lives in services/audit_log.py.
