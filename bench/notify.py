"""Notification delivery throughput: 10,000 queued webhook notifications to a loopback receiver.

    python -m bench.notify [--quick]

On a fresh SQLite file (and a fresh PostgreSQL database when one is reachable) it queues the
notifications in the outbox in one transaction, then one in-process worker drains them with
the real delivery engine (claim with a lease, signed POST, attempt row, outcome) to an HTTP
receiver running in a separate process on 127.0.0.1. Prints ``<metric> <value> <unit>`` lines.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

from sqlalchemy import func, select

from bench.seed_bulk import figure, log, postgres_database, sqlite_database
from domain.base import utcnow
from domain.enums import ChannelKind, OutboxStatus, Role
from domain.models import OutboxMessage
from services import db, migrate
from services.notify import channels, delivery, outbox
from services.notify.channels import ChannelCreate
from services.tenants import create_tenant_with_users
from services.uow import UnitOfWork

RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


def measure(engine: str, url: str, count: int, port: int) -> None:
    migrate.upgrade(url)
    db.configure(url)
    pair = create_tenant_with_users(slug="bench", name="Bench", email_domain="bench.test")
    channel = channels.create_channel(
        actor=pair.actor(Role.ADMIN),
        channel_in=ChannelCreate(
            name="sink", kind=ChannelKind.WEBHOOK, target=f"http://127.0.0.1:{port}/hook"
        ),
    )
    now = utcnow()
    started = time.perf_counter()
    with UnitOfWork(None) as uow:
        for i in range(count):
            outbox.enqueue(
                uow.session,
                tenant_id=pair.tenant.id,
                dedupe_key=f"bench:{i}",
                event="review.new",
                subject=f"Item {i} to review",
                body="A new item is waiting.",
                channel_id=channel.id,
                link=f"http://localhost:8501/review_queue?item={i}",
                now=now,
            )
        uow.commit()
    figure(f"notify.{engine}.enqueue_per_s", count / (time.perf_counter() - started), "/s")
    started = time.perf_counter()
    done = delivery.drain(worker_id=f"bench-{engine}", now=now, rounds=count)
    elapsed = time.perf_counter() - started
    with UnitOfWork(None, readonly=True) as uow:
        sent = uow.session.scalar(
            select(func.count()).where(OutboxMessage.status == OutboxStatus.SENT)
        )
    log(f"{engine}: {done} attempted, {sent} sent in {elapsed:.1f}s")
    figure(f"notify.{engine}.deliveries_per_s", (sent or 0) / elapsed, "/s")
    figure(f"notify.{engine}.delivered", float(sent or 0), "messages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 notifications instead")
    count = 1_000 if parser.parse_args().quick else 10_000
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        with sqlite_database() as url:
            measure("sqlite", url, count, port)
        with postgres_database() as pg_url:
            if pg_url:
                measure("postgres", pg_url, count, port)
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figure("notify.worker_peak_rss_mb", peak_mb, "MB")


if __name__ == "__main__":
    main()
