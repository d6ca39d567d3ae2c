"""Real receivers on loopback for the notification tests: an HTTP server and helpers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import func, select

from domain.models import DeliveryAttempt, OutboxMessage
from services.notify import outbox
from services.uow import UnitOfWork


class Receiver:
    """Keeps every POST it gets; answers ``fail_first`` requests with HTTP 503 first."""

    def __init__(self, fail_first: int = 0) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.fail_first = fail_first
        self.lock = threading.Lock()
        self.url = ""

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            self.requests.append((headers, body))
            if self.fail_first > 0:
                self.fail_first -= 1
                return 503
            return 200

    def ids(self) -> list[str]:
        return [h.get("webhook-id", "") for h, _ in self.requests]

    def bodies(self) -> list[Any]:
        return [json.loads(b) for _, b in self.requests]


class _Server(ThreadingHTTPServer):
    # The default listen backlog is 5, and three workers each send a batch at once. A dropped
    # connection is a failed delivery, retried only after a back-off the test never reaches
    # (the likely cause of 147 of 150 arriving in one CI run).
    request_queue_size = 128
    daemon_threads = True


@contextmanager
def receiver(fail_first: int = 0) -> Iterator[Receiver]:
    box = Receiver(fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            code = box.handle({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(code)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_args: Any) -> None:
            return

    server = _Server(("127.0.0.1", 0), Handler)
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        server.shutdown()
        server.server_close()


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's side of the Standard Webhooks scheme, written from the spec."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [
        s.split(",", 1)[1] for s in headers["webhook-signature"].split() if s.startswith("v1,")
    ]
    return any(hmac.compare_digest(expected, sig) for sig in offered)


def enqueue_many(tenant_id: int, channel_id: int, count: int, now: datetime) -> None:
    with UnitOfWork(None) as uow:
        for i in range(count):
            outbox.enqueue(
                uow.session,
                tenant_id=tenant_id,
                dedupe_key=f"bulk:{i}",
                event="notify.test",
                subject=f"message {i}",
                body="hello",
                channel_id=channel_id,
                now=now,
            )
        uow.commit()


def messages() -> list[OutboxMessage]:
    with UnitOfWork(None, readonly=True) as uow:
        rows = list(uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all())
        uow.session.expunge_all()
        return rows


def attempt_count() -> int:
    with UnitOfWork(None, readonly=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(DeliveryAttempt)) or 0)
