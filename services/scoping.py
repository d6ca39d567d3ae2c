"""Tenant scoping that cannot be forgotten.

Every session opened for an actor carries its tenant id in ``session.info``. A
``do_orm_execute`` hook adds ``tenant_id = :tenant`` to every ORM select, update and delete
of a tenant-scoped model, and a ``before_flush`` hook refuses to write a row of another tenant.
Only system work (migrations, seeding, the worker's claim loop) opens a session without a tenant.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker, with_loader_criteria

from domain.base import TenantScoped

TENANT_KEY = "tenant_id"


def _add_tenant_criteria(state: ORMExecuteState) -> None:
    tenant_id = state.session.info.get(TENANT_KEY)
    if tenant_id is None or state.is_column_load or state.is_relationship_load:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
        )
    )


def _check_new_rows(session: Session, _ctx: Any, _instances: Any) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is None:
        return
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise PermissionError("refusing to write a row that belongs to another tenant")


# The factories already hooked. Not ``event.contains``: SQLAlchemy keys its listener registry
# by ``id()``, so a new factory at a collected one's address looked hooked and went unscoped.
_HOOKED: weakref.WeakSet[sessionmaker[Session]] = weakref.WeakSet()


def install(factory: sessionmaker[Session]) -> None:
    """Attach the tenant hooks to every session the factory makes (once per factory)."""
    if factory in _HOOKED:
        return
    event.listen(factory, "do_orm_execute", _add_tenant_criteria)
    event.listen(factory, "before_flush", _check_new_rows)
    _HOOKED.add(factory)
