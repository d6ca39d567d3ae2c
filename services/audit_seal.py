"""Chaining and sealing audit entries at commit (session hooks, internal).

``audit.record`` queues an entry; ``before_commit`` adds the queue as the transaction's last
writes, once every row lock it takes is held (a chain lock taken mid-transaction deadlocked
with row locks taken after it). ``before_flush`` then takes the tenant's chain lock (a
transaction-scoped advisory lock on PostgreSQL; SQLite writers already queue on ``BEGIN
IMMEDIATE``) and numbers the new entries; ``after_flush_postexec`` (once the database has set
``id`` and ``created_at``) links each entry to its predecessor and writes its hash (an
HMAC under the signing audit key when there is one, services/audit_key), the one UPDATE the
guard triggers allow. Concurrent writers append one after the other and cannot fork
a tenant's chain.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, event, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from domain.audit_chain import GENESIS, HASHED_FIELDS, entry_hash, entry_mac
from domain.models import AuditEntry
from services import audit_key

_PENDING = "audit_pending"
_QUEUE = "audit_queue"
# First key of the two-key advisory lock: "audit chain" (the second is the tenant id).
_LOCK_NAMESPACE = 0x417564

_ENTRIES = cast(Table, AuditEntry.__table__)


def lock_chain(session: Session, tenant_id: int) -> None:
    """Hold the tenant's chain lock until the transaction ends (PostgreSQL; SQLite queues)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(%(ns)s, %(tid)s::integer)",
            {"ns": _LOCK_NAMESPACE, "tid": tenant_id},
        )


def _last(session: Session, tenant_id: int) -> tuple[int, str]:
    table = _ENTRIES
    row = (
        session.connection()
        .execute(
            select(table.c.seq, table.c.entry_hash)
            .where(table.c.tenant_id == tenant_id)
            .order_by(table.c.seq.desc())
            .limit(1)
        )
        .first()
    )
    if row is None:
        return 0, GENESIS
    return int(row.seq), row.entry_hash or GENESIS


def _number(session: Session, _ctx: Any, _instances: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, AuditEntry)]
    if not new:
        return
    by_tenant: dict[int, list[AuditEntry]] = {}
    for entry in new:
        by_tenant.setdefault(entry.tenant_id, []).append(entry)
    keys = audit_key.current(session.connection())
    pending: list[tuple[AuditEntry, str, bytes | None]] = []
    for tenant_id in sorted(by_tenant):
        lock_chain(session, tenant_id)
        seq, prev = _last(session, tenant_id)
        for entry in by_tenant[tenant_id]:
            seq += 1
            entry.seq = seq
            entry.prev_hash = GENESIS
            entry.entry_hash = None
            entry.key_id = keys.signing_id
            pending.append((entry, prev, keys.signing))
            prev = ""  # the predecessor is in this flush: known once it is sealed
    session.info.setdefault(_PENDING, []).extend(pending)


def _seal(session: Session, _ctx: Any) -> None:
    pending: list[tuple[AuditEntry, str, bytes | None]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    table = _ENTRIES
    conn = session.connection()
    previous = ""
    for entry, prev, key in pending:
        prev_hash = prev or previous
        fields = {name: getattr(entry, name) for name in HASHED_FIELDS}
        fields["prev_hash"] = prev_hash
        digest = entry_hash(**fields) if key is None else entry_mac(key=key, fields=fields)
        conn.execute(
            update(table)
            .where(table.c.id == entry.id)
            .values(prev_hash=prev_hash, entry_hash=digest)
        )
        set_committed_value(entry, "prev_hash", prev_hash)
        set_committed_value(entry, "entry_hash", digest)
        previous = digest


def enqueue(session: Session, entry: AuditEntry) -> None:
    """Hold the entry until the transaction commits (then it is numbered, inserted and sealed)."""
    session.info.setdefault(_QUEUE, []).append(entry)


def _append_queued(session: Session) -> None:
    queued: list[AuditEntry] = session.info.pop(_QUEUE, [])
    if queued:
        session.add_all(queued)
        session.flush()


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_QUEUE, None)


def install(factory: sessionmaker[Session]) -> None:
    """Attach the chain hooks to every session the factory makes (scoping.install calls this)."""
    event.listen(factory, "before_commit", _append_queued)
    event.listen(factory, "before_flush", _number)
    event.listen(factory, "after_flush_postexec", _seal)
    event.listen(factory, "after_rollback", _forget)
