"""The served console under N reviewers at once, in real browser sessions.

    python -m bench.console_load [--quick] [--engine sqlite|postgresql] [--reviewers N]
                                 [--seconds S] [--items N] [--consoles K] [--think S]

Bulk-seeds review items (services.seed.bulk, as ``revo seed bulk``) into a fresh SQLite file or
PostgreSQL database, adds N reviewer accounts with passwords, serves the console (``streamlit
run app.py``; K processes on their own ports over the same database, reviewers split between
them) and drives one Debian chromium with one browser context per reviewer (async Playwright).
Each reviewer signs in with the password form, then loops: open the queue (from Home), open two
items from the list, search a term and clear it, Next item (claims one), Approve, with a think
time between actions. Each action is timed in the browser from the click or key press to the
end of the script run it started. Afterwards the database must hold exactly one decision per
approval the UI confirmed. Figures go to stdout as ``<metric> <value> <unit>``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select

from bench.console_reviewer import Reviewer, Tally
from bench.seed_bulk import figure, log, postgres_database, sqlite_database
from domain.enums import ReviewKind, Role
from domain.models import AuditEntry, Lead, ReviewItem, Tenant, User
from services import db, migrate, people, review, tenants
from services.seed.bulk import seed_bulk
from services.uow import UnitOfWork
from tests.support.console import ROOT, free_port, wait_healthy

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip
PASSWORD = "amber-Falcon-rides-97"
TENANT = "bench"
DECISIONS = ("review.approved", "review.first_approval")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _rss_kib(pid: int) -> int:
    """Resident memory of a process and its children, from /proc."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


class _RssWatch(threading.Thread):
    """Samples the consoles' resident memory twice a second; keeps each one's peak."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.peak, self.stop = pids, dict.fromkeys(pids, 0), threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], _rss_kib(pid))


@contextmanager
def _console(workdir: Path, url: str, profile: bool) -> Iterator[tuple[str, int]]:
    """One console process on a free port; yields its base URL and pid."""
    port = free_port()
    log_path = workdir / f"console-{port}.log"
    streamlit = ["-m", "streamlit", "run", str(ROOT / "app.py")]
    if profile:  # the whole process under pyinstrument; its report lands next to the log
        out = workdir / f"profile-{port}.txt"
        streamlit = ["-m", "pyinstrument", "-o", str(out), *streamlit]
    cmd = [sys.executable, *streamlit, "--server.address", "127.0.0.1",
           "--server.port", str(port), "--server.headless", "true",
           "--browser.gatherUsageStats", "false"]  # fmt: skip
    env = {**os.environ, "REVO_DATABASE_URL": url, "REVO_AUTH_MODE": "password",
           "REVO_EMBEDDED_WORKER": "false", "REVO_LOG_LEVEL": "WARNING"}  # fmt: skip
    with log_path.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, log_path)
        yield base, proc.pid
    finally:
        proc.send_signal(2)  # SIGINT: pyinstrument writes its report on the way out
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _prepare(url: str, items: int, reviewers: int) -> list[str]:
    """Migrate, seed the review items, add the reviewer accounts; their emails."""
    migrate.upgrade(url)
    db.configure(url)
    started = time.perf_counter()
    report = seed_bulk(review_items=items, runs=0, llm_calls=0, events=0, tenant_slug=TENANT)
    log(f"seeded {report.total_rows:,} review items in {time.perf_counter() - started:.1f} s")
    _decidable()
    emails = [f"load{k:02d}@{TENANT}.test" for k in range(reviewers)]
    for email in emails:
        person = people.PersonCreate(email=email, role=Role.REVIEWER, password=SecretStr(PASSWORD))
        people.create_user_as_operator(tenant_slug=TENANT, person_in=person)
    return emails


def _decidable() -> None:
    """Make the bulk outreach drafts approvable: their leads exist (the bulk seeder writes no
    subjects), reviewers decide outreach only, and the cadence and daily-limit rules are off
    (every draft of one lead would otherwise wait three days for the next)."""
    with UnitOfWork(None) as uow:
        tenant = uow.session.scalar(select(Tenant).where(Tenant.slug == TENANT))
        assert tenant is not None
        sids = uow.session.scalars(
            select(ReviewItem.subject_id)
            .where(ReviewItem.tenant_id == tenant.id, ReviewItem.kind == ReviewKind.OUTREACH_EMAIL)
            .distinct()
        ).all()
        for sid in sids:
            uow.session.add(Lead(id=sid, tenant_id=tenant.id, email=f"lead{sid}@example.com",
                                 name=f"Lead {sid}", company=f"Customer {sid}"))  # fmt: skip
        uow.commit()
    deciders = {kind.value: ["admin"] for kind in ReviewKind}
    deciders[ReviewKind.OUTREACH_EMAIL.value] = ["admin", "reviewer"]
    review.update_policy(
        actor=tenants.admin_actor(slug=TENANT),
        policy_in={"deciders": deciders, "outreach_cadence_days": 0, "outreach_daily_limit": 0},
    )
    log(f"{len(sids)} leads added; reviewers decide outreach e-mails")


async def _drive(consoles: list[str], emails: list[str], seconds: float, think: float) -> Tally:
    from playwright.async_api import async_playwright

    tally = Tally()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts = [
            await browser.new_context(viewport={"width": 1400, "height": 900}) for _ in emails
        ]
        people_ = [
            Reviewer(ctx, consoles[k % len(consoles)], email, PASSWORD)
            for k, (ctx, email) in enumerate(zip(contexts, emails, strict=True))
        ]
        gate = asyncio.Semaphore(4)
        signed = await asyncio.gather(*(r.sign_in(tally, gate) for r in people_))
        deadline = time.monotonic() + seconds
        log(f"{sum(signed)} of {len(people_)} reviewers signed in; working for {seconds:.0f} s")
        working = [r for r, ok in zip(people_, signed, strict=True) if ok]
        await asyncio.gather(*(r.work(tally, deadline, think) for r in working))
        await browser.close()
    return tally


def _check_decisions(tally: Tally, emails: list[str], since_id: int) -> tuple[int, int, int]:
    """Lost (confirmed, no row), doubled (confirmed, more than one row) and unconfirmed rows."""
    with UnitOfWork(None, readonly=True) as uow:
        users = uow.session.execute(select(User.email, User.id).where(User.email.in_(emails)))
        ids = {email: int(user_id) for email, user_id in users}
        rows = uow.session.execute(
            select(AuditEntry.entity_id, AuditEntry.actor_id).where(
                AuditEntry.id > since_id, AuditEntry.action.in_(DECISIONS)
            )
        ).all()
    found = Counter((int(e or 0), int(a or 0)) for e, a in rows)
    confirmed = Counter((item, ids[email]) for item, email, _ in tally.confirmed)
    lost = sum(1 for key in confirmed if found[key] == 0)
    doubled = sum(1 for key in confirmed if found[key] > 1 or confirmed[key] > 1)
    extra = sum(n for key, n in found.items() if key not in confirmed)
    return lost, doubled, extra


def _last_audit_id() -> int:
    with UnitOfWork(None, readonly=True) as uow:
        return int(uow.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) or 0)


def _report(prefix: str, tally: Tally, peaks: list[int], decisions: tuple[int, int, int]) -> None:
    for action in ("sign_in", "open_home", "open_queue", "open_item", "search", "next_item",
                   "approve", "round"):  # fmt: skip
        times = tally.times.get(action, [])
        if times:
            figure(f"{prefix}.{action}.p50_ms", statistics.median(times), "ms")
            figure(f"{prefix}.{action}.p95_ms", _percentile(times, 0.95), "ms")
        figure(f"{prefix}.{action}.count", len(times), "actions")
        figure(f"{prefix}.{action}.errors", tally.errors.get(action, 0), "errors")
    figure(f"{prefix}.errors", sum(tally.errors.values()), "errors")
    outcomes = Counter(outcome for _, _, outcome in tally.confirmed)
    figure(f"{prefix}.decisions_confirmed", len(tally.confirmed), "decisions")
    for outcome in ("approved", "approved_failed", "first_approval"):
        figure(f"{prefix}.decisions_confirmed.{outcome}", outcomes.get(outcome, 0), "decisions")
    lost, doubled, extra = decisions
    figure(f"{prefix}.decisions_lost", lost, "decisions")
    figure(f"{prefix}.decisions_doubled", doubled, "decisions")
    figure(f"{prefix}.decisions_unconfirmed_in_db", extra, "decisions")
    for k, peak in enumerate(peaks):
        figure(f"{prefix}.console{k}.rss_peak_mb", peak / 1024, "MB")
    figure(f"{prefix}.rss_peak_mb", max(peaks, default=0) / 1024, "MB")
    for message in tally.messages:
        log(f"  error: {message}")


def run(args: argparse.Namespace) -> int:
    database = sqlite_database() if args.engine == "sqlite" else postgres_database()
    with database as url, tempfile.TemporaryDirectory(prefix="revo-load-") as tmp:
        if url is None:
            return 1
        emails = _prepare(url, args.items, args.reviewers)
        since = _last_audit_id()
        with ExitStack() as stack:
            served = [stack.enter_context(_console(Path(tmp), url, args.profile))
                      for _ in range(args.consoles)]  # fmt: skip
            watch = _RssWatch([pid for _, pid in served])
            watch.start()
            load = os.getloadavg()
            log(f"load before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
            tally = asyncio.run(_drive([u for u, _ in served], emails, args.seconds, args.think))
            load = os.getloadavg()
            log(f"load after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
            watch.stop.set()
            peaks = list(watch.peak.values())
        decisions = _check_decisions(tally, emails, since)
        prefix = f"console_load.{args.engine}"
        figure(f"{prefix}.items", args.items, "items")
        figure(f"{prefix}.reviewers", args.reviewers, "reviewers")
        figure(f"{prefix}.consoles", args.consoles, "processes")
        _report(prefix, tally, peaks, decisions)
        if args.profile:
            for path in sorted(Path(tmp).glob("profile-*.txt")):
                print(path.read_text()[:12_000], file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console_load", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10k items, 3 reviewers, 30 s")
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--reviewers", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--items", type=int)
    parser.add_argument("--consoles", type=int, help="default: 1 on SQLite, 2 on PostgreSQL")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between actions")
    parser.add_argument("--profile", action="store_true", help="run the consoles in pyinstrument")
    args = parser.parse_args(argv)
    args.reviewers = args.reviewers or (3 if args.quick else 20)
    args.seconds = args.seconds or (30.0 if args.quick else 120.0)
    args.items = args.items or (10_000 if args.quick else 1_000_000)
    args.consoles = args.consoles or (1 if args.engine == "sqlite" else 2)
    if not Path(CHROMIUM).exists():
        log(f"no {CHROMIUM}: install Debian's chromium package")
        return 1
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
