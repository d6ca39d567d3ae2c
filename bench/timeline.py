"""Timeline and search latency over 1,000,000 events across 50 services, and the page render.

    python -m bench.timeline [--quick]

Loads the events (one every 2.88 s, so an 8-hour investigation window holds ~10,000) and
10,000 investigations into a fresh SQLite file and a fresh PostgreSQL database, then prints the
p95 of the timeline query for such a window and of a filtered investigation search through the
services the page calls, and the time AppTest takes to render an investigation with ~10,000
events on its timeline (SQLite).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.seed_bulk import postgres_database
from domain.enums import InvestigationStatus, Priority, Role, Severity
from domain.models import Investigation
from services import db, migrate
from services.actor import Actor
from services.config import get_settings
from services.investigations import query
from services.investigations.dto import InvestigationFilter
from services.tenants import TenantWithUsers, create_tenant_with_users

SERVICES = [f"service-{i:02d}" for i in range(50)]
START = datetime(2026, 9, 1, tzinfo=UTC)
STEP = timedelta(seconds=2.88)
WINDOW = timedelta(hours=8)
KINDS = (
    [("logs", "log_error")] * 10
    + [("metrics", "metric_anomaly")] * 3
    + [("traces", "span_slow")] * 4
    + [("ci", "deploy"), ("git", "commit")]
)
SEVERITIES = ["info"] * 4 + ["low"] * 3 + ["medium"] * 2 + ["high", "critical"]
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


def event_rows(tenant_id: int, count: int) -> Iterator[tuple[Any, ...]]:
    rnd = random.Random(7)
    for i in range(count):
        source, kind = rnd.choice(KINDS)
        service = SERVICES[rnd.randrange(50)]
        at = START + STEP * i
        ext = f"bench:{i}"
        yield (
            tenant_id,
            source,
            kind,
            at,
            at,
            rnd.choice(SEVERITIES),
            service,
            f"{kind} in {service} #{i}",
            json.dumps({"n": i, "service": service}),
            hashlib.sha256(ext.encode()).hexdigest(),
            ext,
        )


def load_events(url: str, tenant_id: int, count: int) -> None:
    engine = db.get_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            raw: Any = conn.connection.dbapi_connection
            with (
                raw.cursor() as cur,
                cur.copy(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN") as cp,
            ):
                for row in event_rows(tenant_id, count):
                    cp.write_row(row)
            raw.commit()
            conn.exec_driver_sql("ANALYZE events")
            conn.commit()
        return
    from domain.models import Event

    as_time = Event.__table__.c.occurred_at.type.dialect_impl(engine.dialect).bind_processor(
        engine.dialect
    )
    assert as_time is not None
    sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA cache_size=-200000")
        batch: list[tuple[Any, ...]] = []
        for row in event_rows(tenant_id, count):
            batch.append((*row[:3], as_time(row[3]), as_time(row[4]), *row[5:]))
            if len(batch) == 50_000:
                conn.exec_driver_sql(sql, batch)
                batch = []
        if batch:
            conn.exec_driver_sql(sql, batch)
        conn.exec_driver_sql("ANALYZE")


def load_investigations(tenant: TenantWithUsers, count: int, span: timedelta) -> None:
    rnd = random.Random(11)
    users = [u.id for u in tenant.users.values()]
    rows = []
    for i in range(count):
        detected = START + span * rnd.random()
        rows.append(
            {
                "tenant_id": tenant.tenant.id,
                "title": f"Incident {i} in {SERVICES[i % 50]}",
                "description": "errors and latency",
                "severity": rnd.choice(list(Severity)),
                "status": rnd.choice(list(InvestigationStatus)),
                "priority": rnd.choice(list(Priority)),
                "detected_at": detected,
                "service": SERVICES[rnd.randrange(50)],
                "tags": rnd.sample(["db", "network", "deploy", "sev1", "customer"], 2),
                "assignee_id": rnd.choice(users),
                "created_at": detected,
                "row_version": 1,
            }
        )
    with db.get_engine(db.current_engine().url.render_as_string(False)).begin() as conn:
        conn.execute(insert(Investigation.__table__), rows)
        conn.exec_driver_sql("ANALYZE")


def percentiles_ms(fn: Callable[[int], object], runs: int) -> tuple[float, float]:
    """p50 and p95 of ``runs`` calls, after three warm-up calls."""
    for i in range(3):
        fn(i)
    times = []
    for i in range(runs):
        started = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[-1]


def measure(label: str, actor: Actor, events: int, runs: int) -> None:
    # The load just wrote a million rows: let the kernel finish writing them back first, so
    # the figures time the queries, not the disk flushing the load behind them.
    os.sync()
    span = STEP * events
    rnd = random.Random(3)
    sizes: list[int] = []

    def window(_: int) -> None:
        start = START + (span - WINDOW) * rnd.random()
        sizes.append(len(query.timeline(actor=actor, start=start, end=start + WINDOW).ids))

    p50, p95 = percentiles_ms(window, runs)
    print(f"timeline.window.{label}.p50_ms {p50:.1f} ms", flush=True)
    print(f"timeline.window.{label}.p95_ms {p95:.1f} ms", flush=True)
    print(f"# median window size {statistics.median(sizes):,.0f} events", file=sys.stderr)
    statuses = [
        [InvestigationStatus.OPEN, InvestigationStatus.IN_PROGRESS],
        [],
        [InvestigationStatus.RESOLVED],
    ]

    def search(i: int) -> None:
        filters = InvestigationFilter(
            statuses=statuses[i % 3],
            severities=[list(Severity)[i % 4]],
            service=SERVICES[i % 50] if i % 2 else None,
            tag="db" if i % 3 == 0 else None,
            text="incident" if i % 5 == 0 else None,
            detected_from=START + timedelta(days=i % 20) if i % 4 == 0 else None,
        )
        query.search(actor=actor, filters=filters, limit=25)

    p50, p95 = percentiles_ms(search, runs)
    print(f"timeline.search.{label}.p50_ms {p50:.1f} ms", flush=True)
    print(f"timeline.search.{label}.p95_ms {p95:.1f} ms", flush=True)


def prepare(url: str, events: int, investigations: int) -> TenantWithUsers:
    migrate.upgrade(url)
    db.configure(url)
    tenant = create_tenant_with_users(slug="bench", name="Bench Ltd", email_domain="bench.test")
    started = time.perf_counter()
    load_events(url, tenant.tenant.id, events)
    load_investigations(tenant, investigations, STEP * events)
    print(f"# loaded {events:,} events in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return tenant


def render_ms(tenant: TenantWithUsers, events: int) -> float:
    """Median AppTest run of an investigation page whose 8-hour window holds ~10,000 events."""
    from streamlit import config as st_config
    from streamlit.testing.v1 import AppTest

    from services.investigations import service as investigations
    from services.investigations.dto import InvestigationCreate

    actor = tenant.actor(Role.REVIEWER)
    detected = START + STEP * events / 2
    inv = investigations.create(
        actor=actor,
        investigation_in=InvestigationCreate(
            title="Render bench", severity=Severity.HIGH, detected_at=detected
        ),
    )
    os.environ["REVO_AUTH_MODE"] = "demo"
    get_settings.cache_clear()
    st_config.set_option("server.address", "127.0.0.1")
    app = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60
    )
    app.run()
    app.selectbox[0].set_value(tenant.users[Role.REVIEWER].id)
    app.button[0].click().run()
    app.query_params["investigation"] = str(inv.id)
    app.switch_page("pages/investigations.py").run()
    assert not app.exception, app.exception
    shown = next(c.value for c in app.caption if "events from" in c.value)
    print(f"# rendered: {shown}", file=sys.stderr)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        app.run()
        times.append((time.perf_counter() - started) * 1000)
    assert not app.exception, app.exception
    return statistics.median(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.timeline")
    parser.add_argument("--quick", action="store_true", help="100,000 events, 1,000 investigations")
    args = parser.parse_args(argv)
    events, investigations, runs = (100_000, 1_000, 30) if args.quick else (1_000_000, 10_000, 60)
    with tempfile.TemporaryDirectory(prefix="revo-bench-timeline-") as tmp:
        sqlite_tenant = prepare(f"sqlite:///{Path(tmp) / 'bench.db'}", events, investigations)
        measure("sqlite", sqlite_tenant.actor(Role.VIEWER), events, runs)
        render = render_ms(sqlite_tenant, events)
        with postgres_database() as url:
            if url is not None:
                pg_tenant = prepare(url, events, investigations)
                measure("postgres", pg_tenant.actor(Role.VIEWER), events, runs)
        print(f"timeline.apptest_render_ms {render:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
