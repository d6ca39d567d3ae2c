"""Proving the audit untouched (`revo audit verify`, the audit page) and purging it explicitly."""

from __future__ import annotations

from typing import cast

from pydantic import BaseModel
from sqlalchemy import Table, func, insert, select, update

from domain.models import AuditEntry, AuditPurge, Tenant
from services import audit_anchors, audit_walk
from services.actor import Actor
from services.audit_walk import ChainReport
from services.errors import InvalidInput, NotFound
from services.permissions import Action, require
from services.uow import UnitOfWork

_ENTRIES = cast(Table, AuditEntry.__table__)
_PURGES = cast(Table, AuditPurge.__table__)

__all__ = ["ChainReport", "PurgeRead", "purge", "verify", "verify_tenant"]


class PurgeRead(BaseModel):
    tenant_slug: str
    entries: int
    last_seq: int | None
    last_hash: str | None


def verify_tenant(*, actor: Actor, full: bool = False) -> ChainReport:
    """Verify the actor's tenant's chain from its newest checkpoint (``full``: from genesis)."""
    require(actor, Action.VERIFY_AUDIT_FULL if full else Action.VIEW_AUDIT_LOG)
    with UnitOfWork(actor, readonly=True) as uow:
        tenant = uow.session.get(Tenant, actor.tenant_id)
        slug = tenant.slug if tenant else str(actor.tenant_id)
        return audit_walk.walk(uow.session.connection(), actor.tenant_id, slug, full=full)


def verify(*, tenant_slug: str | None = None, full: bool = True) -> list[ChainReport]:
    """Verify every tenant's chain (or one tenant's), system work for `revo audit verify`."""
    with UnitOfWork(None, readonly=True) as uow:
        query = select(Tenant.id, Tenant.slug).order_by(Tenant.id)
        if tenant_slug is not None:
            query = query.where(Tenant.slug == tenant_slug)
        tenants = [(int(t.id), str(t.slug)) for t in uow.session.execute(query)]
        if tenant_slug is not None and not tenants:
            raise NotFound(f"No workspace is called {tenant_slug!r}.")
        conn = uow.session.connection()
        # Entries of tenants deleted after a purge, or forged for a tenant that does not exist.
        table = _ENTRIES
        orphans = (
            conn.scalars(
                select(table.c.tenant_id)
                .distinct()
                .where(table.c.tenant_id.not_in([t[0] for t in tenants]))
            ).all()
            if tenant_slug is None
            else []
        )
        pairs = tenants + [(int(t), f"(deleted tenant {t})") for t in orphans]
        return [audit_walk.walk(conn, tid, slug, full=full) for tid, slug in pairs]


def purge(*, tenant_slug: str, operator: str, reason: str | None = None) -> PurgeRead:
    """Delete one tenant's audit entries, recording who purged, how many, and the last hash."""
    operator = operator.strip()
    if not operator or "\x00" in operator:
        raise InvalidInput("Say who is purging (an operator name).")
    with UnitOfWork(None) as uow:
        tenant = uow.session.scalars(select(Tenant).where(Tenant.slug == tenant_slug)).first()
        if tenant is None:
            raise NotFound(f"No workspace is called {tenant_slug!r}.")
        conn = uow.session.connection()
        table = _ENTRIES
        last = conn.execute(
            select(table.c.seq, table.c.entry_hash)
            .where(table.c.tenant_id == tenant.id)
            .order_by(table.c.seq.desc())
            .limit(1)
        ).first()
        purges = _PURGES
        purge_id = conn.execute(
            insert(purges)
            .values(
                tenant_id=tenant.id,
                tenant_slug=tenant.slug,
                operator=operator[:200],
                reason=reason,
                last_seq=last.seq if last else None,
                last_hash=last.entry_hash if last else None,
            )
            .returning(purges.c.id)
        ).scalar_one()
        # Its checkpoints go, and the anchor file notes the purge (or the purge is refused).
        audit_anchors.record_purge(conn, tenant.id, tenant.slug)
        # The guard lets these rows go only while this purge is open (same transaction).
        deleted = conn.execute(table.delete().where(table.c.tenant_id == tenant.id)).rowcount
        conn.execute(
            update(purges)
            .where(purges.c.id == purge_id)
            .values(entries=deleted, completed_at=func.current_timestamp())
        )
        uow.commit()
        return PurgeRead(
            tenant_slug=tenant.slug,
            entries=deleted,
            last_seq=last.seq if last else None,
            last_hash=last.entry_hash if last else None,
        )
