"""Proving the audit untouched (`revo audit verify`, the audit page) and purging it explicitly."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Connection, Table, func, insert, select, update

from domain.audit_chain import GENESIS, HASHED_FIELDS, entry_hash
from domain.models import AuditEntry, AuditPurge, Tenant
from services.actor import Actor
from services.errors import InvalidInput, NotFound
from services.permissions import Action, require
from services.uow import UnitOfWork

_BATCH = 2000

_ENTRIES = cast(Table, AuditEntry.__table__)
_PURGES = cast(Table, AuditPurge.__table__)


class ChainReport(BaseModel):
    """The outcome of walking one tenant's chain."""

    tenant_id: int
    tenant_slug: str
    entries: int
    verified_seq: int
    verified_at: datetime | None
    broken_entry_id: int | None = None
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


class PurgeRead(BaseModel):
    tenant_slug: str
    entries: int
    last_seq: int | None
    last_hash: str | None


def _problem(row: dict[str, Any], expected_seq: int, prev: str) -> str | None:
    if row["seq"] != expected_seq:
        return (
            f"expected entry {expected_seq} of the chain but found entry {row['seq']}"
            " (an entry is missing or was inserted)"
        )
    if row["prev_hash"] != prev:
        return "its link to the previous entry does not match (an entry was removed or forged)"
    fields = {k: row[k] for k in HASHED_FIELDS}
    if row["entry_hash"] != entry_hash(**fields):
        return "its content does not match its hash (it was edited or forged)"
    return None


def _walk(conn: Connection, tenant_id: int, tenant_slug: str) -> ChainReport:
    table = _ENTRIES
    report = ChainReport(
        tenant_id=tenant_id, tenant_slug=tenant_slug, entries=0, verified_seq=0, verified_at=None
    )
    report.entries = (
        conn.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id))
        or 0
    )
    expected_seq, prev = 1, GENESIS
    stmt = select(table).where(table.c.tenant_id == tenant_id).order_by(table.c.seq, table.c.id)
    for row in conn.execute(stmt.execution_options(yield_per=_BATCH)).mappings():
        problem = _problem(dict(row), expected_seq, prev)
        if problem is not None:
            report.broken_entry_id = row["id"]
            report.broken_seq = row["seq"]
            report.problem = problem
            return report
        expected_seq, prev = row["seq"] + 1, row["entry_hash"]
        report.verified_seq = row["seq"]
        report.verified_at = row["created_at"]
    return report


def verify_tenant(*, actor: Actor) -> ChainReport:
    """Walk the actor's tenant's audit chain and report how far it verifies."""
    require(actor, Action.VIEW_AUDIT_LOG)
    with UnitOfWork(actor, readonly=True) as uow:
        tenant = uow.session.get(Tenant, actor.tenant_id)
        slug = tenant.slug if tenant else str(actor.tenant_id)
        return _walk(uow.session.connection(), actor.tenant_id, slug)


def verify(*, tenant_slug: str | None = None) -> list[ChainReport]:
    """Walk every tenant's chain (or one tenant's), system work for `revo audit verify`."""
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
        return [_walk(conn, tid, slug) for tid, slug in pairs]


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
