"""Benchmark of services.seed.bulk on a throwaway SQLite file and a throwaway PostgreSQL database.

    python -m bench.seed_bulk [--quick]

Figures go to stdout, one per line, as ``<metric> <value> <unit>``; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.exc import OperationalError

from services import db, migrate
from services.seed.bulk import BulkSeedReport, seed_bulk
from tests.support import databases as throwaway

PG_ADMIN_URL = os.environ.get(
    "REVO_BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
FULL = {"review_items": 200_000, "runs": 100_000, "llm_calls": 300_000, "events": 200_000}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def figure(metric: str, value: float, unit: str, decimals: int = 0) -> None:
    print(f"{metric} {value:.{decimals}f} {unit}", flush=True)


class _Progress:
    """Prints one stderr line per table when it is done, and every ~10% on the way."""

    def __init__(self, engine: str) -> None:
        self.engine = engine
        self.started = time.perf_counter()
        self.last: dict[str, int] = {}

    def __call__(self, table: str, done: int, total: int) -> None:
        step = max(total // 10, 1)
        if done == total or done - self.last.get(table, 0) >= step:
            self.last[table] = done
            elapsed = time.perf_counter() - self.started
            log(f"  {self.engine} {table}: {done:,}/{total:,} ({elapsed:.1f} s)")


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="revo-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        try:
            yield url
        finally:
            db.get_engine(url).dispose()


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A throwaway PostgreSQL database for a benchmark, or None (logged) when unreachable."""
    with throwaway.postgres_database("revo_bench", PG_ADMIN_URL) as url:
        if isinstance(url, OperationalError):
            where = PG_ADMIN_URL.rsplit("@", 1)[-1]
            reason = throwaway.unreachable_reason(url)
            log(f"PostgreSQL unreachable at {where}: {reason}; skipping it")
            yield None
        else:
            yield url


def run(engine: str, url: str, sizes: dict[str, int]) -> BulkSeedReport:
    log(f"{engine}: migrating {url.split('@')[-1]}")
    migrate.upgrade(url)
    db.configure(url)
    log(f"{engine}: seeding {sum(sizes.values()):,} rows")
    started = time.perf_counter()
    report = seed_bulk(**sizes, progress=_Progress(engine))
    seconds = time.perf_counter() - started
    rate = report.total_rows / seconds
    log(f"{engine}: {report.total_rows:,} rows in {seconds:.2f} s")
    figure(f"seed_bulk.{engine}.rows_per_s", rate, "rows/s")
    figure(f"seed_bulk.{engine}.rows", report.total_rows, "rows")
    figure(f"seed_bulk.{engine}.seconds", seconds, "s", decimals=2)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.seed_bulk", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="about a tenth of the full size")
    args = parser.parse_args(argv)
    sizes = {k: v // 10 for k, v in FULL.items()} if args.quick else dict(FULL)
    with sqlite_database() as url:
        run("sqlite", url, sizes)
    with postgres_database() as pg_url:
        if pg_url is not None:
            run("postgres", pg_url, sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
