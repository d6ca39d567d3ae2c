"""`revo`: the operators' command line. Every failure prints one clear line, exits non-zero."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError

from services import db, migrate
from services.config import get_settings
from services.errors import ServiceError

ROOT = Path(__file__).resolve().parent.parent


class CliError(Exception):
    """A failure the operator can act on; printed as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"revo: {message} (see 'revo --help')", file=sys.stderr)
        raise SystemExit(2)


def _url() -> str:
    raw = get_settings().database_url
    db.parse_url(raw)
    return raw


def _progress(table: str, done: int, total: int) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    bar = "#" * filled + "-" * (width - filled)
    print(f"\r{table:<14} [{bar}] {done:>10,}/{total:,}", end="", file=sys.stderr, flush=True)
    if done >= total:
        print(file=sys.stderr)


def cmd_db(args: argparse.Namespace) -> int:
    url = _url()
    if args.action == "upgrade":
        migrate.upgrade(url, args.revision or "head")
        print(f"database at {migrate.current(url)}")
    elif args.action == "downgrade":
        migrate.downgrade(url, args.revision or "-1")
        print(f"database at {migrate.current(url) or 'base (empty)'}")
    else:
        print(migrate.current(url) or "base (empty)")
    return 0


def _require_schema(url: str) -> None:
    if migrate.current(url) != migrate.head():
        raise CliError("the database schema is not up to date: run 'revo db upgrade' first")


def cmd_seed(args: argparse.Namespace) -> int:
    from services.seed import bulk, demo

    url = _url()
    _require_schema(url)
    db.configure(url)
    if args.what == "demo":
        report = demo.seed_demo()
        print(f"demo data seeded: {report.model_dump()}")
        return 0
    counts = {
        "review_items": args.review_items,
        "runs": args.runs,
        "llm_calls": args.llm_calls,
        "events": args.events,
    }
    if any(n < 0 for n in counts.values()):
        raise CliError("row counts must be zero or more")
    started = time.perf_counter()
    result = bulk.seed_bulk(**counts, tenant_slug=args.tenant, progress=_progress)
    seconds = time.perf_counter() - started
    print(f"inserted {result.total_rows:,} rows in {seconds:.1f} s")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """Ingest a file or a git repository (under REVO_INGEST_ROOTS) for a tenant."""
    from domain.enums import EventSource
    from services.ingest import service as ingest

    url = _url()
    _require_schema(url)
    db.configure(url)
    report = ingest.ingest_for_tenant(
        tenant_slug=args.tenant, source=EventSource(args.source), path=args.path,
        service=args.service,
    )  # fmt: skip
    print(
        f"{report.source.value} {report.origin}: {report.records:,} records read, "
        f"{report.inserted:,} new events, {report.duplicates:,} already stored, "
        f"{report.quarantined:,} quarantined, {report.skipped:,} made no event "
        f"({report.seconds:.2f} s)"
    )
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    """Migrate, seed demo data into an empty database, then run the console."""
    from services import auth
    from services.seed import demo

    if not auth.is_loopback(args.address):
        raise CliError(f"refusing to start in demo mode on non-loopback address {args.address}")
    if get_settings().env == "production":
        raise CliError("'revo up' is for local use; it refuses to run with REVO_ENV=production")
    url = db.absolute_url(_url()).render_as_string(hide_password=False)
    was_empty = migrate.is_empty(url)
    migrate.upgrade(url)
    db.configure(url)
    if was_empty:
        demo.seed_demo()
        print("seeded demo data", file=sys.stderr)
    # The console runs from the repo root; hand it the same database, not one relative to it.
    env = {**os.environ, "REVO_AUTH_MODE": "demo", "REVO_DATABASE_URL": url}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.address", args.address, "--server.port", str(args.port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.maxUploadSize", str(math.ceil(get_settings().ingest_max_upload_mb)),
    ]  # fmt: skip
    print(f"Revo Console on http://localhost:{args.port}", file=sys.stderr)
    os.chdir(ROOT)
    if not get_settings().llm_local:
        os.execvpe(cmd[0], cmd, env)
    return _up_with_local_model(cmd, env)


def _up_with_local_model(cmd: list[str], env: dict[str, str]) -> int:
    """Run the console next to llama.cpp's server with the small local model; stop both."""
    import signal
    import subprocess

    from services.llm import local_server

    def _stop(*_: object) -> None:
        raise KeyboardInterrupt  # so the finally below stops the model server too

    signal.signal(signal.SIGTERM, _stop)
    server = local_server.start(log=ROOT / "var" / "local-llm.log")
    print(f"local model {server.model} on {server.url} (toy-quality drafts)", file=sys.stderr)
    env = {
        **env,
        "REVO_LLM_BASE_URL": server.url,
        "REVO_LLM_MODEL": server.model,
        "REVO_LLM_MODE": server.mode,
    }
    try:
        return subprocess.run(cmd, env=env, check=False).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        server.stop()


def _ready_db() -> None:
    url = _url()
    _require_schema(url)
    db.configure(url)


def cmd_worker(args: argparse.Namespace) -> int:
    """Claim and execute agent runs until stopped (--once: until the queue is drained)."""
    import signal
    import threading

    from services import logs, worker

    logs.configure()
    _ready_db()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    wid = args.id or worker.default_worker_id()
    print(f"worker {wid} started", file=sys.stderr, flush=True)
    done = worker.run_worker(worker_id=wid, once=args.once, stop=stop)
    print(f"worker {wid} stopped after {done} run(s)", file=sys.stderr)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from domain.enums import AgentName
    from services import runs, tenants

    _ready_db()
    actor = tenants.admin_actor(slug=args.tenant)
    run = runs.enqueue(
        actor=actor,
        agent=AgentName(args.agent),
        subject_id=args.subject,
        idempotency_key=args.key,
    )
    print(f"run #{run.id} {run.agent.value} on {run.subject_type} #{run.subject_id}: {run.status}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from domain.enums import RunStatus
    from services import runs, tenants

    _ready_db()
    actor = tenants.admin_actor(slug=args.tenant)
    status = RunStatus(args.status) if args.status else None
    rows = runs.list_runs(actor=actor, status=status, limit=args.limit)
    print(f"{'id':>6}  {'agent':<12} {'subject':<18} {'status':<10} {'tries':>5}  error")
    for r in rows:
        subject = f"{r.subject_type} #{r.subject_id}"
        error = (r.error or "").splitlines()[0][:60] if r.error else ""
        tries = f"{r.attempts}/{r.max_attempts}"
        print(
            f"{r.id:>6}  {r.agent.value:<12} {subject:<18} {r.status.value:<10} {tries:>5}  {error}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="revo", description="Revo Console operations")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p_db = sub.add_parser("db", help="schema migrations")
    p_db.add_argument("action", choices=["upgrade", "downgrade", "current"])
    p_db.add_argument("revision", nargs="?", help="target revision (upgrade: head, downgrade: -1)")
    p_db.set_defaults(func=cmd_db)

    p_seed = sub.add_parser("seed", help="load demo or benchmark data")
    seed_sub = p_seed.add_subparsers(dest="what", required=True, parser_class=_Parser)
    seed_sub.add_parser("demo", help="two demo tenants with realistic data (once)")
    p_bulk = seed_sub.add_parser("bulk", help="many rows, fast, for benchmarks")
    p_bulk.add_argument("--review-items", type=int, default=0)
    p_bulk.add_argument("--runs", type=int, default=0)
    p_bulk.add_argument("--llm-calls", type=int, default=0)
    p_bulk.add_argument("--events", type=int, default=0)
    p_bulk.add_argument("--tenant", default="bench", help="tenant slug (created if missing)")
    p_seed.set_defaults(func=cmd_seed)

    p_ingest = sub.add_parser("ingest", help="ingest events from a file or a git repository")
    p_ingest.add_argument("source", choices=["git", "ci", "logs", "metrics", "traces"])
    p_ingest.add_argument("path", help="file or repository path under REVO_INGEST_ROOTS")
    p_ingest.add_argument("--tenant", required=True, help="tenant slug")
    p_ingest.add_argument("--service", help="service the events belong to (git, JUnit)")
    p_ingest.set_defaults(func=cmd_ingest)

    agents = ["sdr", "sales", "negotiation", "finance", "investigator"]
    statuses = ["queued", "running", "succeeded", "failed", "retrying", "dead", "cancelled"]
    p_worker = sub.add_parser("worker", help="claim and execute agent runs")
    p_worker.add_argument("--once", action="store_true", help="drain the queue, then exit")
    p_worker.add_argument("--id", help="worker id shown on its leases (default host:pid)")
    p_worker.set_defaults(func=cmd_worker)

    p_run = sub.add_parser("run", help="enqueue an agent run")
    p_run.add_argument("agent", choices=agents)
    p_run.add_argument("--subject", type=int, required=True, help="id of the lead/deal/...")
    p_run.add_argument("--tenant", required=True, help="tenant slug (acts as its admin)")
    p_run.add_argument("--key", help="idempotency key: the same key returns the same run")
    p_run.set_defaults(func=cmd_run)

    p_runs = sub.add_parser("runs", help="list recent agent runs")
    p_runs.add_argument("--tenant", required=True, help="tenant slug")
    p_runs.add_argument("--status", choices=statuses)
    p_runs.add_argument("--limit", type=int, default=50)
    p_runs.set_defaults(func=cmd_runs)

    p_up = sub.add_parser("up", help="migrate, seed if empty, start the console (demo sign-in)")
    p_up.add_argument("--address", default="127.0.0.1")
    p_up.add_argument("--port", type=int, default=8501)
    p_up.set_defaults(func=cmd_up)
    return parser


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `revo` console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (CliError, ServiceError) as exc:
        print(f"revo: {exc}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        print(f"revo: cannot use the database: {_one_line(exc)}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        print(f"revo: database error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except ValidationError as exc:  # pydantic-settings: a malformed REVO_* value
        problems = "; ".join(
            (f"REVO_{'_'.join(str(p) for p in e['loc']).upper()}: " if e["loc"] else "")
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        print(f"revo: bad setting: {problems}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    raise SystemExit(main())
