"""Bulk seeding for benchmarks: hundreds of thousands of rows per minute, no ORM objects.

Rows are built as plain tuples already in wire format (see ``bulk_plan``) and handed to the
driver in chunks: ``executemany`` on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL. Everything
after the tenant lands in one transaction.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, select, text

from domain.enums import Role
from domain.models import Tenant, User
from services import db, tenants
from services.errors import InvalidInput
from services.metrics import rollup_sql
from services.review import search_index
from services.review.search_index import FTS_TABLE
from services.seed import bulk_events, bulk_review, bulk_runs
from services.seed.bulk_plan import BulkPlan, Row, Ts
from services.uow import UnitOfWork

Progress = Callable[[str, int, int], None]
Builder = Callable[[BulkPlan, Ts, int, int, int], list[Row]]
CHUNK = 20_000
BULK_MARK = "bulk_seed"  # in Tenant.settings: this tenant holds synthetic rows only
SQLITE_CACHE_KIB = 1_048_576  # up to 1 GiB of page cache: index pages stay hot, nothing spills


class BulkSeedReport(BaseModel):
    """What one bulk seed wrote and how fast."""

    tenant_id: int
    tenant_slug: str
    rows: dict[str, int]
    total_rows: int
    seconds: float
    rows_per_s: float


_EPOCH = datetime(1970, 1, 1)  # naive on purpose: pure arithmetic, formatted as UTC below


def timestamps(suffix: str) -> Ts:
    """Epoch seconds to UTC timestamp text: 'YYYY-MM-DD HH:MM:SS.ffffff' plus the suffix.

    Without a suffix this is exactly how SQLAlchemy stores a DateTime on SQLite (no offset,
    always microseconds), so SQLite's string comparisons keep working. Twice as fast as
    datetime.isoformat because the date-and-hour prefix is cached.
    """
    prefixes: dict[int, str] = {}

    def ts(epoch: float) -> str:
        hour, rest = divmod(round(epoch * 1_000_000), 3_600_000_000)
        prefix = prefixes.get(hour)
        if prefix is None:
            prefix = (_EPOCH + timedelta(hours=hour)).strftime("%Y-%m-%d %H:")
            prefixes[hour] = prefix
        minute, rest = divmod(rest, 60_000_000)
        second, micro = divmod(rest, 1_000_000)
        return f"{prefix}{minute:02d}:{second:02d}.{micro:06d}{suffix}"

    return ts


Chunks = Iterator[tuple[int, list[Row]]]  # (rows done so far, the next rows)
Done = Callable[[int], None]  # told how many rows of the table are written so far


class _Writer:
    ts: Ts

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def load(self, table: str, columns: tuple[str, ...], chunks: Chunks, done: Done) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Undo any per-connection tuning."""


class _SqliteWriter(_Writer):
    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.ts = timestamps("")
        self.old_cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")

    def load(self, table: str, columns: tuple[str, ...], chunks: Chunks, done: Done) -> None:
        # Raw executemany with values already in SQLAlchemy's storage format: Core insert()
        # was measured at half the speed, all of it spent in per-value bind processing.
        marks = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        with self._index_afterwards(table):
            for written, rows in chunks:
                self.conn.exec_driver_sql(sql, rows)
                done(written)

    @contextmanager
    def _index_afterwards(self, table: str) -> Iterator[None]:
        """Load the table with its FTS5 search index's insert trigger (r11sqlitefts) off, then
        index the new rows in one statement: six times faster than the trigger row by row.
        DDL is transactional on SQLite, so no other writer ever sees the trigger missing."""
        trigger = f"{FTS_TABLE}_insert"
        found = self.conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (trigger,)
        ).scalar()
        if table != "review_items" or found is None:
            yield
            return
        since = self.conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM review_items").scalar()
        self.conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
        yield
        self.conn.exec_driver_sql(
            f"INSERT INTO {FTS_TABLE}(rowid, search_text) "
            "SELECT id, search_text FROM review_items WHERE id > ?",
            (since,),
        )
        self.conn.exec_driver_sql(found)
        search_index.refresh_stats(self.conn)

    def close(self) -> None:
        self.conn.exec_driver_sql(f"PRAGMA cache_size={int(self.old_cache or -2000)}")


class _PostgresWriter(_Writer):
    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.ts = timestamps("+00:00")

    def load(self, table: str, columns: tuple[str, ...], chunks: Chunks, done: Done) -> None:
        # One COPY per table: the server keeps inserting while the next chunk is being built.
        raw: Any = self.conn.connection.driver_connection
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for written, rows in chunks:
                for row in rows:
                    copy.write_row(row)
                done(written)


def seed_bulk(
    *,
    review_items: int,
    runs: int,
    llm_calls: int,
    events: int,
    tenant_slug: str = "bench",
    progress: Progress | None = None,
) -> BulkSeedReport:
    """Insert the requested numbers of rows for one bulk tenant (created if missing), fast."""
    counts = {
        "agent_runs": runs,
        "llm_calls": llm_calls,
        "review_items": review_items,
        "events": events,
    }
    if any(n < 0 for n in counts.values()):
        raise InvalidInput("Row counts must be zero or more.")
    started = time.perf_counter()
    tenant_id, users = _ensure_tenant(tenant_slug)
    batch = secrets.token_hex(4)
    plan = BulkPlan(
        tenant_id=tenant_id,
        users=users,
        batch=batch,
        now=time.time(),
        rng=random.Random(batch),
    )
    engine = db.current_engine()
    with engine.begin() as conn:
        writer: _Writer = (
            _SqliteWriter(conn) if engine.dialect.name == "sqlite" else _PostgresWriter(conn)
        )
        # Row-by-row rollup triggers would cost more than the load; recompute them once instead.
        rollup_sql.drop(conn)
        try:
            steps: list[tuple[str, tuple[str, ...], Builder]] = [
                ("agent_runs", bulk_runs.RUN_COLUMNS, bulk_runs.run_rows),
                ("llm_calls", bulk_runs.LLM_COLUMNS, bulk_runs.llm_rows),
                ("review_items", bulk_review.REVIEW_COLUMNS, bulk_review.review_rows),
                ("events", bulk_events.EVENT_COLUMNS, bulk_events.event_rows),
            ]
            for table, columns, build in steps:
                total = counts[table]
                chunks = _chunks(build, plan, writer.ts, total)
                writer.load(table, columns, chunks, _reporter(progress, table, total))
                if table == "agent_runs":
                    plan.run_ids = _run_ids(conn, tenant_id, batch)
                    if len(plan.run_ids) != total:  # would attach calls to the wrong runs
                        raise RuntimeError(f"found {len(plan.run_ids)} of {total} new runs")
        finally:
            writer.close()
        rollup_sql.rebuild(conn)
        rollup_sql.install(conn)
    _refresh_statistics(engine, [table for table, n in counts.items() if n])
    seconds = time.perf_counter() - started
    total_rows = sum(counts.values())
    return BulkSeedReport(
        tenant_id=tenant_id,
        tenant_slug=tenant_slug,
        rows=counts,
        total_rows=total_rows,
        seconds=round(seconds, 3),
        rows_per_s=round(total_rows / seconds, 1) if seconds > 0 else 0.0,
    )


def _refresh_statistics(engine: Engine, tables: list[str]) -> None:
    """Give the query planner fresh statistics for what was just loaded: without them (until
    autovacuum gets to it) PostgreSQL plans the queue's first page as a sort of every row."""
    if not tables:
        return
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"ANALYZE {', '.join(tables)}"))
            return
        conn.execute(text("PRAGMA analysis_limit = 1000"))  # sampled, as PostgreSQL does
        for table in tables:
            conn.execute(text(f"ANALYZE {table}"))


def _reporter(progress: Progress | None, table: str, total: int) -> Done:
    def done(written: int) -> None:
        if progress:
            progress(table, written, total)

    return done


def _chunks(build: Builder, plan: BulkPlan, ts: Ts, total: int) -> Chunks:
    # Built on the calling thread: a producer thread was measured slower (GIL ping-pong with
    # the driver, which drops the GIL for every row it steps).
    for start in range(0, total, CHUNK):
        stop = min(start + CHUNK, total)
        yield stop, build(plan, ts, start, stop, total)


def _run_ids(conn: Connection, tenant_id: int, batch: str) -> list[int]:
    """The ids of this batch's runs in insertion order (ids grow with each inserted row).

    LIKE rather than a key range: range bounds built from punctuation do not hold under
    PostgreSQL's locale collations, which skip punctuation when comparing.
    """
    rows = conn.execute(
        text(
            "SELECT id FROM agent_runs WHERE tenant_id = :t AND idempotency_key LIKE :prefix "
            "ORDER BY id"
        ),
        {"t": tenant_id, "prefix": f"bulk:{batch}:%"},
    )
    return [int(r[0]) for r in rows]


def _ensure_tenant(slug: str) -> tuple[int, dict[Role, int]]:
    """The bulk tenant, created (and marked) if missing; a tenant made otherwise is refused."""
    found = tenants.find_tenant(slug=slug)
    if found is None:
        created = tenants.create_tenant_with_users(
            slug=slug, name=f"Bench {slug}", email_domain=f"{slug}.test"
        )
        with UnitOfWork(None) as uow:
            tenant = uow.session.get_one(Tenant, created.tenant.id)
            tenant.settings = {**(tenant.settings or {}), BULK_MARK: True}
            uow.commit()
        return created.tenant.id, {role: user.id for role, user in created.users.items()}
    with UnitOfWork(None) as uow:
        settings = uow.session.get_one(Tenant, found.id).settings or {}
        if settings.get(BULK_MARK) is not True:
            raise InvalidInput(
                f"Tenant {slug!r} was not created by bulk seeding and may hold real data; "
                "bulk seeding only writes synthetic rows into a tenant of its own. "
                "Choose a new tenant slug."
            )
        users = {
            u.role: u.id
            for u in uow.session.scalars(select(User).where(User.tenant_id == found.id))
        }
        missing = [role for role in Role if role not in users]
        for role in missing:
            user = User(
                tenant_id=found.id,
                email=f"{role.value}@{slug}.test",
                display_name=f"{role.value.title()} {slug}",
                role=role,
            )
            uow.session.add(user)
            uow.session.flush()
            users[role] = user.id
        if missing:
            uow.commit()
    return found.id, users
