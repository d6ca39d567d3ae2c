"""Walking one tenant's audit chain against its keys, checkpoints and anchors (internal).

A full walk starts at genesis; an incremental one at the newest checkpoint whose HMAC checks
out (the entries before it were proven when it was taken). Either way the chain must reach the
newest checkpoint and anchor line, and every entry they name must still have the hash they
recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Connection, Table, func, select

from domain.audit_chain import GENESIS, HASHED_FIELDS, entry_hash, entry_mac, same
from domain.models import AuditEntry
from services import audit_anchors, audit_key
from services.audit_anchors import Mark

_BATCH = 2000
_ENTRIES = cast(Table, AuditEntry.__table__)
UNKEYED_AFTER_KEYED = (
    "forged: unkeyed entry after keyed ones (or REVO_AUDIT_KEY was unset since they were written)"
)


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
    keyed: bool = False
    notice: str | None = None  # e.g. "chain not keyed: set REVO_AUDIT_KEY"
    full: bool = True
    from_checkpoint: int | None = None  # the entry an incremental walk started at
    anchored_seq: int | None = None  # the newest checkpoint or anchor the chain reaches

    @property
    def ok(self) -> bool:
        return self.problem is None


def _content_problem(
    row: dict[str, Any], keys: audit_key.AuditKeys, keyed_seen: bool
) -> str | None:
    fields = {k: row[k] for k in HASHED_FIELDS}
    kid = row["key_id"]
    if kid is None:
        if keyed_seen:
            return UNKEYED_AFTER_KEYED
        if not same(row["entry_hash"], entry_hash(**fields)):
            return "its content does not match its hash (it was edited or forged)"
        return None
    key = keys.by_id.get(kid)
    if key is None:
        return (
            f"it is signed with audit key {kid}, which is not among the configured keys "
            "(the wrong REVO_AUDIT_KEY, or a forged entry)"
        )
    if not same(row["entry_hash"], entry_mac(key=key, fields=fields)):
        return "its content does not match its HMAC (it was edited or forged, or the key is wrong)"
    return None


def _problem(
    row: dict[str, Any],
    expected_seq: int,
    prev: str | None,
    keys: audit_key.AuditKeys,
    keyed_seen: bool,
) -> str | None:
    if row["seq"] != expected_seq:
        return (
            f"expected entry {expected_seq} of the chain but found entry {row['seq']}"
            " (an entry is missing or was inserted)"
        )
    if prev is not None and row["prev_hash"] != prev:
        return "its link to the previous entry does not match (an entry was removed or forged)"
    return _content_problem(row, keys, keyed_seen)


def _marks(
    conn: Connection, tenant_id: int, keys: audit_key.AuditKeys, full: bool
) -> tuple[list[Mark], Mark | None]:
    """The marks to check, and (incremental) the checkpoint to start from."""
    checkpoints = audit_anchors.checkpoint_marks(conn, tenant_id, keys, limit=None if full else 20)
    anchors = audit_anchors.file_marks(tenant_id, keys, newest_only=not full)
    start = None
    if not full:
        start = next((m for m in checkpoints if m.valid), None)
        if start is not None:
            checkpoints = [m for m in checkpoints if m.seq >= start.seq]
    return checkpoints + anchors, start


def _break(report: ChainReport, seq: int, entry_id: int | None, problem: str) -> ChainReport:
    report.broken_seq, report.broken_entry_id, report.problem = seq, entry_id, problem
    return report


def walk(conn: Connection, tenant_id: int, tenant_slug: str, *, full: bool) -> ChainReport:
    """Verify the tenant's chain (``full``: from genesis, else from the newest checkpoint)."""
    keys = audit_key.current(conn)
    table = _ENTRIES
    report = ChainReport(
        tenant_id=tenant_id,
        tenant_slug=tenant_slug,
        entries=0,
        verified_seq=0,
        verified_at=None,
        keyed=keys.keyed,
        notice=None if keys.keyed else audit_key.NOT_KEYED,
        full=full,
    )
    report.entries = (
        conn.scalar(select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id))
        or 0
    )
    marks, start = _marks(conn, tenant_id, keys, full)
    forged = next((m for m in sorted(marks, key=lambda m: m.seq) if not m.valid), None)
    if forged is not None:
        return _break(
            report,
            forged.seq,
            None,
            f"the {forged.source} at entry {forged.seq} is not signed by the audit key (forged)",
        )
    by_seq: dict[int, list[Mark]] = {}
    for mark in marks:
        by_seq.setdefault(mark.seq, []).append(mark)

    expected_seq, prev, keyed_seen = 1, cast(str | None, GENESIS), False
    stmt = select(table).where(table.c.tenant_id == tenant_id).order_by(table.c.seq, table.c.id)
    if start is not None:
        # The checkpoint vouches for the entries before it, and its own entry's link.
        expected_seq, prev = start.seq, None
        report.from_checkpoint, report.verified_seq = start.seq, start.seq - 1
        stmt = stmt.where(table.c.seq >= start.seq)
    for found in conn.execute(stmt.execution_options(yield_per=_BATCH)).mappings():
        row = dict(found)
        problem = _problem(row, expected_seq, prev, keys, keyed_seen)
        if problem is None:
            differs = [m for m in by_seq.get(row["seq"], []) if row["entry_hash"] != m.entry_hash]
            if differs:
                m = differs[0]
                problem = f"it does not match the {m.source} taken at {m.at} (edited or replaced)"
        if problem is not None:
            return _break(report, row["seq"], row["id"], problem)
        keyed_seen = keyed_seen or row["key_id"] is not None
        expected_seq, prev = row["seq"] + 1, row["entry_hash"]
        report.verified_seq = row["seq"]
        report.verified_at = row["created_at"]
    end = report.verified_seq
    if marks:
        newest = max(marks, key=lambda m: (m.seq, m.source == "anchor"))
        if newest.seq > end:
            return _break(
                report,
                end + 1,
                None,
                f"the chain was cut: {newest.source} at entry {newest.seq}, chain ends at {end}",
            )
        report.anchored_seq = newest.seq
    return report
