"""Writing what connectors produced: events (insert-or-skip) and health rows."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Column, MetaData, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from domain.enums import BreakerState, EventSource
from domain.models import ConnectorHealth, Event
from services.ingest.schema import EventIn

CHUNK = 5_000
UNIQUE_KEY = ["tenant_id", "source", "external_id"]


COLUMNS = (
    "tenant_id",
    "source",
    "type",
    "occurred_at",
    "ingested_at",
    "severity",
    "service",
    "title",
    "data",
    "payload_hash",
    "external_id",
)


def insert_events(session: Session, *, tenant_id: int, events: list[EventIn], now: datetime) -> int:
    """Insert the events, skipping any already stored (same tenant, source, external id)."""
    if not events:
        return 0
    conn = session.connection()
    table = Event.__table__
    assert isinstance(table, Table)
    if conn.dialect.name != "sqlite":
        return _insert_postgres(session, table, tenant_id=tenant_id, events=events, now=now)
    # SQLite: compile the dialect's INSERT … ON CONFLICT DO NOTHING once and hand the driver
    # ready tuples; SQLAlchemy's per-row parameter bookkeeping would halve the ingest rate.
    stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=UNIQUE_KEY)
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(COLUMNS))
    order = [COLUMNS.index(name) for name in compiled.positiontup or []]
    # A bulk insert into three indexes thrashes SQLite's default 2 MB page cache. 16 MB holds
    # the pages the (mostly time-ordered) inserts touch: 64 MB measured no faster on a 20 MB
    # log (9.2k vs 9.8k events per CPU second) and cost 55 MB more peak memory.
    conn.exec_driver_sql("PRAGMA cache_size=-16384")
    dialect = conn.dialect
    as_time = table.c.occurred_at.type.dialect_impl(dialect).bind_processor(dialect)
    as_json = table.c.data.type.dialect_impl(dialect).bind_processor(dialect)
    assert as_time is not None and as_json is not None
    ingested = as_time(now)
    inserted = 0
    for start in range(0, len(events), CHUNK):
        rows: list[tuple[Any, ...]] = [
            (
                tenant_id,
                e.source.value,
                e.type,
                as_time(e.occurred_at),
                ingested,
                e.severity.value,
                e.service,
                e.title,
                as_json(e.data),
                e.payload_hash,
                e.external_id,
            )
            for e in events[start : start + CHUNK]
        ]
        if order != list(range(len(COLUMNS))):
            rows = [tuple(row[i] for i in order) for row in rows]
        # sqlite3 sums rowcount over executemany; skipped duplicates are not counted.
        inserted += max(conn.exec_driver_sql(compiled.string, rows).rowcount, 0)
    return inserted


def _insert_postgres(
    session: Session, table: Table, *, tenant_id: int, events: list[EventIn], now: datetime
) -> int:
    """COPY into a transaction-local staging table, then one INSERT … ON CONFLICT DO NOTHING.

    Row-by-row inserts through the driver manage ~4,000 events/s; COPY plus one set-based
    insert is several times faster, and RETURNING tells exactly which rows were new.
    """
    conn = session.connection()
    conn.exec_driver_sql(
        "CREATE TEMP TABLE IF NOT EXISTS events_stage "
        "(LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    conn.exec_driver_sql("TRUNCATE events_stage")
    raw: Any = conn.connection.dbapi_connection
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY events_stage ({', '.join(COLUMNS)}) FROM STDIN") as copy,
    ):
        for e in events:
            copy.write_row(
                (
                    tenant_id,
                    e.source.value,
                    e.type,
                    e.occurred_at,
                    now,
                    e.severity.value,
                    e.service,
                    e.title,
                    json.dumps(e.data),
                    e.payload_hash,
                    e.external_id,
                )
            )
    stage = Table("events_stage", MetaData(), *(Column(c) for c in COLUMNS))
    stmt = pg_insert(table).from_select(list(COLUMNS), select(*stage.c))
    returning = stmt.on_conflict_do_nothing(index_elements=UNIQUE_KEY).returning(table.c.id)
    # RETURNING lists exactly the rows inserted (the driver's rowcount is not reliable here).
    return len(conn.execute(returning).all())


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
