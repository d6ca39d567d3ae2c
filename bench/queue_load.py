"""The review queue bench's load (bulk rows, then the indexes) and its EXPLAIN ANALYZE output."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, event, text

from bench.seed_bulk import figure, log
from services import db
from services.seed.bulk import seed_bulk

TABLE = "review_items"
PG_INDEX_MEMORY = "512MB"  # maintenance_work_mem for the index build (the default is 64MB)


def _secondary_indexes(conn: Connection, engine: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the review table's indexes that no constraint owns."""
    if engine == "postgres":
        rows = conn.execute(
            text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname"
            ),
            {"t": TABLE},
        )
    else:
        rows = conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t "
                "AND sql IS NOT NULL ORDER BY name"
            ),
            {"t": TABLE},
        )
    return [(str(name), str(sql)) for name, sql in rows]


def _size_mb(conn: Connection, engine: str) -> float:
    if engine == "postgres":
        size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    else:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        size = pages * conn.exec_driver_sql("PRAGMA page_size").scalar_one()
    return float(size) / 1_048_576


def load_review_items(engine: str, url: str, items: int, tenant: str) -> None:
    """Bulk-load the items with the review table's secondary indexes dropped, build them
    afterwards, and print rows, seconds, rows/s, index build seconds and database size."""
    sa_engine = db.get_engine(url)
    with sa_engine.begin() as conn:
        indexes = _secondary_indexes(conn, engine)
        for name, _ in indexes:
            conn.execute(text(f"DROP INDEX {name}"))
    log(f"{engine}: {len(indexes)} secondary indexes on {TABLE} dropped for the load")
    started = time.perf_counter()
    report = seed_bulk(review_items=items, runs=0, llm_calls=0, events=0, tenant_slug=tenant)
    seeded = time.perf_counter() - started
    log(f"{engine}: {items:,} rows in {seeded:.1f} s; building the indexes")
    started = time.perf_counter()
    with sa_engine.begin() as conn:
        if engine == "postgres":
            conn.execute(text(f"SET LOCAL maintenance_work_mem = '{PG_INDEX_MEMORY}'"))
        for name, sql in indexes:
            one = time.perf_counter()
            conn.execute(text(sql))
            log(f"  {engine} {name}: {time.perf_counter() - one:.1f} s")
        conn.execute(text(f"ANALYZE {TABLE}"))
    built = time.perf_counter() - started
    with sa_engine.connect() as conn:
        size = _size_mb(conn, engine)
    prefix = f"review_queue.load.{engine}"
    figure(f"{prefix}.rows", report.rows[TABLE], "rows")
    figure(f"{prefix}.seconds", seeded, "s", decimals=1)
    figure(f"{prefix}.rows_per_s", report.rows[TABLE] / seeded, "rows/s")
    figure(f"{prefix}.index_build_s", built, "s", decimals=1)
    figure(f"{prefix}.total_s", seeded + built, "s", decimals=1)
    figure(f"{prefix}.database_mb", size, "MB")


def explain_captured(url: str, calls: dict[str, Callable[[], object]]) -> None:
    """Run each call once, capture its SELECTs on the review table, and print PostgreSQL's
    EXPLAIN (ANALYZE, BUFFERS) of each to stderr (in a transaction that is rolled back)."""
    sa_engine = db.get_engine(url)
    for name, call in calls.items():
        seen: list[tuple[str, Any]] = []

        def capture(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith("SELECT") and f"FROM {TABLE}" in statement:
                seen.append((statement, params))  # noqa: B023 - listener lives one loop turn

        event.listen(sa_engine, "before_cursor_execute", capture)
        try:
            call()
        finally:
            event.remove(sa_engine, "before_cursor_execute", capture)
        for statement, params in seen:
            with sa_engine.connect() as conn:
                plan = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, params
                ).scalars()
                log(f"--- EXPLAIN {name}\n{statement}\n{params}\n" + "\n".join(plan))
                conn.rollback()
