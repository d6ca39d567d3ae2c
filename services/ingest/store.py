"""Writing what connectors produced: events (insert-or-skip), quarantine rows, health rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from domain.enums import BreakerState, EventSource, QuarantineStatus
from domain.models import ConnectorHealth, Event, QuarantinedRecord
from services.ingest.schema import EventIn, Rejected

CHUNK = 5_000
QUARANTINE_KEEP = 1_000
UNIQUE_KEY = ["tenant_id", "source", "external_id"]


COLUMNS = ("tenant_id", "source", "type", "occurred_at", "ingested_at", "severity", "service",
           "title", "data", "payload_hash", "external_id")  # fmt: skip


def _rows(events: list[EventIn], tenant_id: int, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": tenant_id,
            "source": e.source,
            "type": e.type,
            "occurred_at": e.occurred_at,
            "ingested_at": now,
            "severity": e.severity,
            "service": e.service,
            "title": e.title,
            "data": e.data,
            "payload_hash": e.payload_hash,
            "external_id": e.external_id,
        }
        for e in events
    ]


def insert_events(session: Session, *, tenant_id: int, events: list[EventIn], now: datetime) -> int:
    """Insert the events, skipping any already stored (same tenant, source, external id)."""
    if not events:
        return 0
    conn = session.connection()
    table = Event.__table__
    assert isinstance(table, Table)
    if conn.dialect.name != "sqlite":
        pg_stmt = pg_insert(table).on_conflict_do_nothing(index_elements=UNIQUE_KEY)
        inserted = 0
        for start in range(0, len(events), CHUNK):
            batch = _rows(events[start : start + CHUNK], tenant_id, now)
            # psycopg's executemany rowcount is unreliable; count the ids actually inserted.
            inserted += len(conn.execute(pg_stmt.returning(table.c.id), batch).all())
        return inserted
    # SQLite: compile the dialect's INSERT … ON CONFLICT DO NOTHING once and hand the driver
    # ready tuples; SQLAlchemy's per-row parameter bookkeeping would halve the ingest rate.
    stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=UNIQUE_KEY)
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(COLUMNS))
    order = [COLUMNS.index(name) for name in compiled.positiontup or []]
    # A bulk insert into three indexes thrashes SQLite's default 2 MB page cache; 64 MB for
    # this connection roughly halves the time of a large ingest.
    conn.exec_driver_sql("PRAGMA cache_size=-65536")
    dialect = conn.dialect
    as_time = table.c.occurred_at.type.dialect_impl(dialect).bind_processor(dialect)
    as_json = table.c.data.type.dialect_impl(dialect).bind_processor(dialect)
    assert as_time is not None and as_json is not None
    ingested = as_time(now)
    inserted = 0
    for start in range(0, len(events), CHUNK):
        rows: list[tuple[Any, ...]] = [
            (tenant_id, e.source.value, e.type, as_time(e.occurred_at), ingested,
             e.severity.value, e.service, e.title, as_json(e.data), e.payload_hash, e.external_id)
            for e in events[start : start + CHUNK]
        ]  # fmt: skip
        if order != list(range(len(COLUMNS))):
            rows = [tuple(row[i] for i in order) for row in rows]
        # sqlite3 sums rowcount over executemany; skipped duplicates are not counted.
        inserted += max(conn.exec_driver_sql(compiled.string, rows).rowcount, 0)
    return inserted


def quarantine(
    session: Session,
    *,
    tenant_id: int,
    source: EventSource,
    origin: str,
    rejected: list[Rejected],
) -> int:
    """Keep rejected records not already pending (the first QUARANTINE_KEEP, then a summary)."""
    pending = {
        (position, raw)
        for position, raw in session.execute(
            select(QuarantinedRecord.position, QuarantinedRecord.raw).where(
                QuarantinedRecord.tenant_id == tenant_id,
                QuarantinedRecord.source == source,
                QuarantinedRecord.origin == origin[:500],
                QuarantinedRecord.status == QuarantineStatus.PENDING,
            )
        )
    }
    rejected = [r for r in rejected if (r.position[:100], r.raw) not in pending]
    kept = rejected[:QUARANTINE_KEEP]
    rows = [
        QuarantinedRecord(
            tenant_id=tenant_id,
            source=source,
            origin=origin[:500],
            position=r.position[:100],
            reason=r.reason,
            raw=r.raw,
            service=r.service,
            status=QuarantineStatus.PENDING,
        )
        for r in kept
    ]
    if len(rejected) > len(kept):
        rows.append(
            QuarantinedRecord(
                tenant_id=tenant_id,
                source=source,
                origin=origin[:500],
                position="(rest of file)",
                reason=(
                    f"{len(rejected) - len(kept):,} more records were rejected and not kept; "
                    "fix the file and ingest it again"
                ),
                raw="",
                status=QuarantineStatus.PENDING,
            )
        )
    session.add_all(rows)
    return len(rejected)


def health_row(session: Session, *, tenant_id: int, source: EventSource) -> ConnectorHealth:
    """The connector's health row, created closed on first use."""
    row = session.scalar(
        select(ConnectorHealth).where(
            ConnectorHealth.tenant_id == tenant_id, ConnectorHealth.source == source
        )
    )
    if row is None:
        row = ConnectorHealth(
            tenant_id=tenant_id,
            source=source,
            breaker_state=BreakerState.CLOSED,
            consecutive_failures=0,
            runs=0,
            events_ingested=0,
            duplicates_skipped=0,
            records_quarantined=0,
        )
        session.add(row)
        session.flush()
    return row
