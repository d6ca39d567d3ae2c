"""Ingest throughput and memory: JSON-lines log files into SQLite and PostgreSQL.

    python -m bench.ingest [--quick]

A 1 GB log file (``--quick``: 50 MB) is ingested into SQLite by a child process, which prints
``ingest.sqlite.events_per_s`` (events per second of wall time for the whole ingest: read,
validate, hash, insert-or-skip, commit) and ``ingest.sqlite.peak_rss_mb`` (the child's peak
resident memory, from getrusage). A 200,000-line file (``--quick``: 20,000) then gives
``ingest.sqlite.reingest_events_per_s`` (the same file again: every event already stored) and
``ingest.postgres.events_per_s``. The files are written to a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.seed_bulk import postgres_database
from domain.enums import EventSource
from services import db, migrate
from services.config import get_settings
from services.ingest import service as ingest
from services.tenants import create_tenant_with_users

SERVICES = [f"service-{i:02d}" for i in range(50)]


def log_line(i: int, start: datetime) -> str:
    at = start + timedelta(milliseconds=137 * i)
    doc = {
        "ts": at.isoformat().replace("+00:00", "Z"),
        "level": "error",
        "service": SERVICES[i % len(SERVICES)],
        "message": f"upstream timeout after 3000 ms (request {i})",
        "request_id": f"req-{i:08d}",
        "path": "/api/v1/cart",
    }
    return json.dumps(doc) + "\n"


def write_log(path: Path, lines: int) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with path.open("w") as out:
        for i in range(lines):
            out.write(log_line(i, start))


def write_log_of_size(path: Path, size: int) -> int:
    """A log of about ``size`` bytes (lines as write_log writes them); returns the line count."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    written = lines = 0
    with path.open("w", buffering=1 << 20) as out:
        while written < size:
            block = "".join(log_line(i, start) for i in range(lines, lines + 10_000))
            out.write(block)
            written += len(block)
            lines += 10_000
    return lines


def _child(url: str, slug: str, name: str, queue: Any) -> None:
    """In a fresh process: ingest one file, report events, seconds and peak RSS."""
    db.configure(url)
    started = time.perf_counter()
    report = ingest.ingest_for_tenant(tenant_slug=slug, source=EventSource.LOGS, path=name)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    queue.put((report.model_dump(mode="json"), seconds, peak_kb / 1024))


def run_big(root: Path, size: int) -> None:
    path = root / "big.log"
    lines = write_log_of_size(path, size)
    print(f"# {lines:,} log lines, {path.stat().st_size / 1e6:,.0f} MB", file=sys.stderr)
    url = f"sqlite:///{root / 'big.db'}"
    migrate.upgrade(url)
    db.configure(url)
    slug = f"bench-{uuid.uuid4().hex[:6]}"
    create_tenant_with_users(slug=slug, name="Bench Ltd", email_domain=f"{slug}.test")
    os.sync()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_child, args=(url, slug, path.name, queue))
    child.start()
    report, seconds, peak_mb = queue.get()
    child.join()
    assert report["quarantined"] == 0 and report["inserted"] == lines, report
    print(f"ingest.sqlite.events_per_s {report['inserted'] / seconds:.0f} events/s", flush=True)
    print(f"ingest.sqlite.peak_rss_mb {peak_mb:.0f} MB", flush=True)
    path.unlink()


def run(url: str, path: Path, label: str) -> None:
    migrate.upgrade(url)
    db.configure(url)
    slug = f"bench-{uuid.uuid4().hex[:6]}"
    create_tenant_with_users(slug=slug, name="Bench Ltd", email_domain=f"{slug}.test")
    started = time.perf_counter()
    first = ingest.ingest_for_tenant(tenant_slug=slug, source=EventSource.LOGS, path=path.name)
    seconds = time.perf_counter() - started
    assert first.quarantined == 0 and first.inserted > 0, first
    if label == "postgres":
        print(f"ingest.postgres.events_per_s {first.inserted / seconds:.0f} events/s", flush=True)
    else:
        started = time.perf_counter()
        again = ingest.ingest_for_tenant(tenant_slug=slug, source=EventSource.LOGS, path=path.name)
        seconds = time.perf_counter() - started
        assert again.inserted == 0 and again.duplicates == first.inserted, again
        print(f"ingest.sqlite.reingest_events_per_s {again.duplicates / seconds:.0f} events/s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest")
    parser.add_argument(
        "--quick", action="store_true", help="50 MB and 20,000 lines instead of 1 GB and 200,000"
    )
    args = parser.parse_args(argv)
    lines = 20_000 if args.quick else 200_000
    with tempfile.TemporaryDirectory(prefix="revo-bench-ingest-") as tmp:
        root = Path(tmp)
        os.environ["REVO_INGEST_ROOTS"] = str(root)
        os.environ["REVO_INGEST_MAX_UPLOAD_MB"] = "2048"
        get_settings.cache_clear()
        run_big(root, 50_000_000 if args.quick else 1_000_000_000)
        path = root / "app.log"
        write_log(path, lines)
        print(f"# {lines:,} log lines, {path.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
        run(f"sqlite:///{root / 'bench.db'}", path, "sqlite")
        with postgres_database() as url:
            if url is not None:
                run(url, path, "postgres")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
