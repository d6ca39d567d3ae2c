"""Ingest throughput: a JSON-lines log file into SQLite and PostgreSQL, then the same file again.

    python -m bench.ingest [--quick]

Prints ``ingest.sqlite.events_per_s``, ``ingest.postgres.events_per_s`` and
``ingest.sqlite.reingest_events_per_s`` (events per second of wall time for the whole ingest:
read, validate, hash, insert-or-skip, commit).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from domain.enums import EventSource
from services import db, migrate
from services.config import get_settings
from services.ingest import service as ingest
from services.tenants import create_tenant_with_users

PG_ADMIN_URL = os.environ.get(
    "REVO_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SERVICES = [f"service-{i:02d}" for i in range(50)]


def write_log(path: Path, lines: int) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with path.open("w") as out:
        for i in range(lines):
            at = start + timedelta(milliseconds=137 * i)
            doc = {
                "ts": at.isoformat().replace("+00:00", "Z"),
                "level": "error",
                "service": SERVICES[i % len(SERVICES)],
                "message": f"upstream timeout after 3000 ms (request {i})",
                "request_id": f"req-{i:08d}",
                "path": "/api/v1/cart",
            }
            out.write(json.dumps(doc) + "\n")


def run(url: str, path: Path, label: str) -> None:
    migrate.upgrade(url)
    db.configure(url)
    slug = f"bench-{uuid.uuid4().hex[:6]}"
    create_tenant_with_users(slug=slug, name="Bench Ltd", email_domain=f"{slug}.test")
    started = time.perf_counter()
    first = ingest.ingest_for_tenant(tenant_slug=slug, source=EventSource.LOGS, path=path.name)
    seconds = time.perf_counter() - started
    assert first.quarantined == 0 and first.inserted > 0, first
    print(f"ingest.{label}.events_per_s {first.inserted / seconds:.0f} events/s", flush=True)
    if label == "sqlite":
        started = time.perf_counter()
        again = ingest.ingest_for_tenant(tenant_slug=slug, source=EventSource.LOGS, path=path.name)
        seconds = time.perf_counter() - started
        assert again.inserted == 0 and again.duplicates == first.inserted, again
        print(f"ingest.sqlite.reingest_events_per_s {again.duplicates / seconds:.0f} events/s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest")
    parser.add_argument("--quick", action="store_true", help="20,000 lines instead of 200,000")
    args = parser.parse_args(argv)
    lines = 20_000 if args.quick else 200_000
    with tempfile.TemporaryDirectory(prefix="revo-bench-ingest-") as tmp:
        root = Path(tmp)
        os.environ["REVO_INGEST_ROOTS"] = str(root)
        os.environ["REVO_INGEST_MAX_UPLOAD_MB"] = "1000"
        get_settings.cache_clear()
        path = root / "app.log"
        write_log(path, lines)
        print(f"# {lines:,} log lines, {path.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
        run(f"sqlite:///{root / 'bench.db'}", path, "sqlite")
        name = f"revo_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        try:
            run(url, path, "postgres")
        finally:
            db.get_engine(url).dispose()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
