"""Benchmark: the metrics page's 30-day aggregates over 1,000,000 runs and 5,000,000 LLM calls.

    python -m bench.metrics [--quick] [--engines sqlite,postgres] [--reuse] [--zone NAME]

Loads the rows once per engine (``--reuse`` keeps an already loaded database), then times every
service call the metrics page makes for the last 30 days (median of ``--repeat`` runs after one
warm-up) and prints ``<metric> <value> <unit>`` lines, ending with metrics.page_total.<engine>.ms.
``--zone`` gives the bench tenant that time zone first (default UTC): its 30 days start at local
midnight, so they are counted from the raw rows, bucketed by local day.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from bench.metrics_load import generate, load
from domain.base import utcnow
from domain.enums import Role
from domain.models import AgentRun, LLMCall, ReviewItem, Tenant, User
from services import db, migrate
from services.actor import Actor
from services.metrics import cost, dashboard, drilldown, llm, queue, reviews, runs
from services.metrics.filters import MetricsFilter, build_filter, calendar_days
from services.tenants import create_tenant_with_users, find_tenant
from services.uow import UnitOfWork

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FULL = (1_000_000, 5_000_000)
QUICK = (50_000, 250_000)
DAYS = 90


def say(line: str) -> None:
    print(line, flush=True)


def _url(engine: str, quick: bool) -> str:
    suffix = "_quick" if quick else ""
    if engine == "sqlite":
        return f"sqlite:///{ROOT / 'var' / 'bench' / f'metrics{suffix}.db'}"
    return PG_ADMIN.rsplit("/", 1)[0] + f"/revo_bench_metrics{suffix}"


def _fresh(engine: str, url: str) -> None:
    if engine == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for extra in ("", "-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
    else:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    migrate.upgrade(url)


def _loaded(url: str, runs_n: int) -> Actor | None:
    try:
        db.configure(url)
        if migrate.current(url) != migrate.head() or find_tenant(slug="bench") is None:
            return None
    except Exception:  # no database yet
        return None
    with UnitOfWork(None, readonly=True) as uow:
        if uow.session.scalar(select(func.count()).select_from(AgentRun)) != runs_n:
            return None
        admin = uow.session.scalar(select(User).where(User.role == Role.ADMIN))
        assert admin is not None
        return Actor(user_id=admin.id, tenant_id=admin.tenant_id, role=admin.role)


def prepare(engine: str, quick: bool, reuse: bool) -> Actor:
    runs_n, calls_n = QUICK if quick else FULL
    url = _url(engine, quick)
    actor = _loaded(url, runs_n) if reuse else None
    if actor is not None:
        say(f"# reusing loaded {engine} database {url}")
        return actor
    _fresh(engine, url)
    db.configure(url)
    tenant = create_tenant_with_users(slug="bench", name="Bench Co", email_domain="bench.test")
    create_tenant_with_users(slug="other", name="Other Co", email_domain="other.test")
    actor = tenant.actor(Role.ADMIN)
    started = time.perf_counter()
    streams = generate(
        tenant.tenant.id, tenant.users[Role.REVIEWER].id, runs_n, calls_n, DAYS, utcnow()
    )
    load(db.get_engine(url), streams)
    say(f"metrics.load.{engine}.s {time.perf_counter() - started:.1f} s")
    with UnitOfWork(None, readonly=True) as uow:
        for model in (AgentRun, LLMCall, ReviewItem):
            n = uow.session.scalar(select(func.count()).select_from(model))
            say(f"# {engine} {model.__tablename__}: {n:,} rows")
    return actor


def _time(call: Callable[[], Any], repeat: int) -> float:
    call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def aggregates(actor: Actor, f: MetricsFilter) -> dict[str, Callable[[], Any]]:
    kw: dict[str, Any] = {"actor": actor, "filters": f}
    return {
        "run_summary": lambda: runs.get_run_summary(**kw),
        "run_summary_previous": lambda: runs.get_run_summary(actor=actor, filters=f.previous()),
        "runs_per_bucket": lambda: runs.get_runs_per_bucket(**kw),
        "agent_run_stats": lambda: runs.get_agent_run_stats(**kw),
        "llm_stats": lambda: llm.get_llm_stats(**kw),
        "llm_latency_per_bucket": lambda: llm.get_latency_per_bucket(**kw),
        "review_outcomes": lambda: reviews.get_review_outcomes(**kw),
        "cost_per_approved": lambda: cost.get_cost_per_approved_draft(**kw),
        "cost_per_approved_previous": lambda: cost.get_cost_per_approved_draft(
            actor=actor, filters=f.previous()
        ),
        "queue_health": lambda: queue.get_queue_health(**kw),
        "recent_runs": lambda: drilldown.list_recent_runs(**kw),
        "filter_options": lambda: dashboard.get_filter_options(**kw),
    }


def page(actor: Actor, f: MetricsFilter) -> None:
    """The service calls one render of the metrics page makes."""
    dashboard.get_filter_options(actor=actor, filters=f)
    dashboard.get_dashboard(actor=actor, filters=f)
    drilldown.list_recent_runs(actor=actor, filters=f)
    queue.get_queue_health(actor=actor, filters=f)


def _set_zone(actor: Actor, zone: str) -> None:
    with UnitOfWork(None) as uow:
        tenant = uow.session.get(Tenant, actor.tenant_id)
        assert tenant is not None
        tenant.settings = {**(tenant.settings or {}), "timezone": zone}
        uow.commit()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics")
    parser.add_argument("--quick", action="store_true", help="1/20 of the full size")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--zone", default="UTC", help="the bench tenant's time zone")
    args = parser.parse_args(argv)
    for engine in args.engines.split(","):
        actor = prepare(engine, args.quick, args.reuse)
        os.sync()  # time the queries, not the kernel writing the load back to disk
        _set_zone(actor, args.zone)
        say(f"# {engine} bench tenant's time zone: {args.zone}")
        # The page's default: the last 30 whole days in the tenant's zone, today included.
        start, end = calendar_days(30, tz=args.zone)
        f = build_filter(start=start, end=end, tz=args.zone)
        for name, call in aggregates(actor, f).items():
            say(f"metrics.{name}.{engine}.ms {_time(call, args.repeat):.1f} ms")
        total = _time(functools.partial(page, actor, f), args.repeat)
        say(f"metrics.page_total.{engine}.ms {total:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
