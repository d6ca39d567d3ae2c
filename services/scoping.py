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
from services import audit_seal
from services.errors import PermissionDenied

_AUDIT_TABLES = frozenset({"audit_entries", "audit_purges"})


class AuditImmutable(PermissionDenied):
    """An attempt to change or remove an audit row through a session."""


TENANT_KEY = "tenant_id"


def _refuse_audit_statements(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in _AUDIT_TABLES:
        raise AuditImmutable("audit entries are append-only: UPDATE and DELETE are refused")


def _add_tenant_criteria(state: ORMExecuteState) -> None:
    _refuse_audit_statements(state)
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


def _refuse_audit_changes(session: Session) -> None:
    for obj in session.deleted:
        if getattr(obj, "__tablename__", None) in _AUDIT_TABLES:
            raise AuditImmutable("audit entries are append-only: refusing to delete one")
    for obj in session.dirty:
        tablename = getattr(obj, "__tablename__", None)
        if tablename in _AUDIT_TABLES and session.is_modified(obj):
            raise AuditImmutable("audit entries are append-only: refusing to change one")


def _check_new_rows(session: Session, _ctx: Any, _instances: Any) -> None:
    _refuse_audit_changes(session)
    tenant_id = session.info.get(TENANT_KEY)
    if tenant_id is None:
        return
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise PermissionDenied("refusing to write a row that belongs to another tenant")


# The factories already hooked. Not ``event.contains``: SQLAlchemy keys its listener registry
# by ``id()``, so a new factory at a collected one's address looked hooked and went unscoped.
_HOOKED: weakref.WeakSet[sessionmaker[Session]] = weakref.WeakSet()


def install(factory: sessionmaker[Session]) -> None:
    """Attach the tenant hooks to every session the factory makes (once per factory)."""
    if factory in _HOOKED:
        return
    event.listen(factory, "do_orm_execute", _add_tenant_criteria)
    event.listen(factory, "before_flush", _check_new_rows)
    audit_seal.install(factory)
    _HOOKED.add(factory)
