"""Review queue latency over 100,000 to 10,000,000 review items, and the page's first render.

    python -m bench.review_queue [--size 100k|1m|10m] [--quick] [--engine both|sqlite|postgres]
                                 [--explain]

Bulk-seeds the review items (``revo seed bulk``) into a fresh SQLite file and a fresh PostgreSQL
database, then times the service call the queue page makes for its first page (pending, by due
time, with the capped total), for a filtered page (one kind and a confidence band), for a
text search (a common word, a surname written into five items only, a rare invoice number, a
term found nowhere) and for the Next item button (``review.next_item``: claim the most urgent
item), as a reviewer of the seeded tenant. Last, the median AppTest run of the queue page on
SQLite, signed in as that reviewer.

The load is reported too: the review table's secondary indexes are dropped before the bulk
load and built afterwards (as one restores a dump), and the two steps are timed apart.
``--size 10m`` is PostgreSQL only. ``--explain`` prints PostgreSQL's EXPLAIN ANALYZE of each
timed query to stderr. Figures go to stdout as ``<metric> <value> <unit>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.queue_load import explain_captured, load_review_items
from bench.seed_bulk import figure, log, postgres_database, sqlite_database
from domain.enums import ReviewKind, Role
from services import db, migrate, review
from services.actor import Actor
from services.config import get_settings
from services.tenants import find_tenant

TENANT = "bench"
SIZES = {"100k": (100_000, 40), "1m": (1_000_000, 100), "10m": (10_000_000, 100)}


def _percentiles(call: Callable[[], object], runs: int) -> tuple[float, float]:
    call()  # warm caches and the statement cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def _reviewer() -> Actor:
    from sqlalchemy import select

    from domain.models import User
    from services.uow import UnitOfWork

    tenant = find_tenant(slug=TENANT)
    assert tenant is not None
    with UnitOfWork(None, readonly=True) as uow:
        user = uow.session.scalar(
            select(User).where(User.tenant_id == tenant.id, User.role == Role.REVIEWER)
        )
        assert user is not None
        return Actor(user_id=user.id, tenant_id=tenant.id, role=user.role, label="bench")


def _an_invoice_number(url: str) -> str:
    """The invoice number of one pending dunning notice (a term only its item holds)."""
    from sqlalchemy import text

    with db.get_engine(url).connect() as conn:
        found = conn.execute(
            text(
                "SELECT search_text FROM review_items "
                "WHERE kind = 'dunning_notice' AND status = 'pending' ORDER BY id LIMIT 1"
            )
        ).scalar_one()
    return next(word for word in found.split() if word.startswith("inv-b-")).upper()


RARE_TERM = "halvorsen"  # shares trigrams with the seeded text ("sen", "ors") but is in no row
RARE_ITEMS = 5


def _write_rare_term(url: str) -> None:
    """Append the rare term to five pending items' search text, spread over the table (an
    edit, so the search indexes follow it as they follow the console's edits)."""
    from sqlalchemy import text

    with db.get_engine(url).begin() as conn:
        ids = conn.execute(
            text("SELECT id FROM review_items WHERE status = 'pending' ORDER BY id")
        ).scalars()
        every = list(ids)
        picked = [every[i * (len(every) - 1) // (RARE_ITEMS - 1)] for i in range(RARE_ITEMS)]
        conn.execute(
            text("UPDATE review_items SET search_text = search_text || :tail WHERE id = :id"),
            [{"tail": f" {RARE_TERM}", "id": i} for i in picked],
        )


def measure(engine: str, url: str, items: int, runs: int, *, explain: bool = False) -> Actor:
    log(f"{engine}: migrating and seeding {items:,} review items")
    migrate.upgrade(url)
    db.configure(url)
    load_review_items(engine, url, items, TENANT)
    actor = _reviewer()
    _write_rare_term(url)
    os.sync()  # time the queries, not the kernel writing the load back to disk
    filtered = review.ReviewQueueFilter(
        kinds=[ReviewKind.OUTREACH_EMAIL], min_confidence=0.6, max_confidence=0.9
    )
    common = review.ReviewQueueFilter(search="call")
    rare = review.ReviewQueueFilter(search=RARE_TERM.title())
    invoice = review.ReviewQueueFilter(search=_an_invoice_number(url))  # some dunning notices
    nothing = review.ReviewQueueFilter(search="zqxjv")
    first = _percentiles(lambda: review.list_queue(actor=actor), runs)
    narrow = _percentiles(lambda: review.list_queue(actor=actor, filters=filtered), runs)
    search = _percentiles(lambda: review.list_queue(actor=actor, filters=common), runs)
    found = review.list_queue(actor=actor, filters=rare)
    assert found.total == RARE_ITEMS, (rare.search, found.total)
    found = review.list_queue(actor=actor, filters=invoice)
    assert 0 < found.total <= items // 100, (invoice.search, found.total)  # under 1 % of items
    assert not review.list_queue(actor=actor, filters=nothing).items
    rare_ms = _percentiles(lambda: review.list_queue(actor=actor, filters=rare), runs)
    invoice_ms = _percentiles(lambda: review.list_queue(actor=actor, filters=invoice), runs)
    none_ms = _percentiles(lambda: review.list_queue(actor=actor, filters=nothing), runs)
    assert review.next_item(actor=actor) is not None
    next_ms = _percentiles(lambda: review.next_item(actor=actor), runs)
    if explain and engine == "postgres":
        explain_captured(
            url,
            {
                "first_page": lambda: review.list_queue(actor=actor),
                "filtered_page": lambda: review.list_queue(actor=actor, filters=filtered),
                "search_page": lambda: review.list_queue(actor=actor, filters=common),
                "search_rare_page": lambda: review.list_queue(actor=actor, filters=rare),
                "search_invoice_page": lambda: review.list_queue(actor=actor, filters=invoice),
                "search_none_page": lambda: review.list_queue(actor=actor, filters=nothing),
                "next_item": lambda: review.next_item(actor=actor),
            },
        )
    pages = (
        ("first_page", first),
        ("filtered_page", narrow),
        ("search_page", search),
        ("search_rare_page", rare_ms),
        ("search_invoice_page", invoice_ms),
        ("search_none_page", none_ms),
        ("next_item", next_ms),
    )
    for name, (p50, p95) in pages:
        figure(f"review_queue.{name}.{engine}.p50_ms", p50, "ms", decimals=1)
        figure(f"review_queue.{name}.{engine}.p95_ms", p95, "ms", decimals=1)
    return actor


def render_ms(actor: Actor) -> float:
    """Median AppTest run of the review queue page for a signed-in reviewer."""
    from streamlit import config as st_config
    from streamlit.testing.v1 import AppTest

    os.environ["REVO_AUTH_MODE"] = "demo"
    os.environ["REVO_EMBEDDED_WORKER"] = "false"
    get_settings.cache_clear()
    st_config.set_option("server.address", "127.0.0.1")
    app = AppTest.from_file(
        str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60
    )
    app.run()
    app.selectbox[0].set_value(actor.user_id)
    app.button[0].click().run()
    app.switch_page("pages/review_queue.py").run()
    assert not app.exception, app.exception
    times = []
    for _ in range(5):
        started = time.perf_counter()
        app.run()
        times.append((time.perf_counter() - started) * 1000)
    assert not app.exception, app.exception
    # The figure is for the real page: the queue with its first 50 rows.
    assert app.title[0].value == "Review queue", [t.value for t in app.title]
    assert len(app.dataframe[0].value) == 50, len(app.dataframe[0].value)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.review_queue")
    parser.add_argument("--size", choices=sorted(SIZES), default="1m", help="review items")
    parser.add_argument("--quick", action="store_true", help="the same as --size 100k")
    parser.add_argument("--engine", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE on PostgreSQL")
    args = parser.parse_args(argv)
    size = "100k" if args.quick else args.size
    items, runs = SIZES[size]
    sqlite, postgres = args.engine in ("both", "sqlite"), args.engine in ("both", "postgres")
    if size == "10m" and sqlite:
        if args.engine == "sqlite":
            parser.error("--size 10m is for PostgreSQL only; use --engine postgres")
        log("--size 10m is for PostgreSQL only: skipping SQLite")
        sqlite = False
    if sqlite:
        with sqlite_database() as url:
            actor = measure("sqlite", url, items, runs)
            figure("review_queue.apptest_render_ms", render_ms(actor), "ms")
    if postgres:
        with postgres_database() as pg_url:
            if pg_url is None:
                return 1 if args.engine == "postgres" or size == "10m" else 0
            measure("postgres", pg_url, items, runs, explain=args.explain)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
