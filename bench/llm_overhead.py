"""Overhead of the LLM client: one complete() against a server that answers instantly.

The figure is the whole call — request shaping, HTTP on loopback, parsing, validation and the
LLM call row written to a real SQLite file — so it is an upper bound of the client's own cost.
Run: python -m bench.llm_overhead [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.enums import LLMMode
from services import db, migrate
from services.llm.client import LLMClient, LLMConfig
from services.llm.recording import CallContext
from services.tenants import create_tenant_with_users


class Draft(BaseModel):
    subject: str = Field(min_length=3, max_length=200)
    body: str = Field(min_length=10, max_length=5000)
    confidence: float = Field(ge=0, le=1)
    risk: Literal["low", "medium", "high"]


ANSWER = json.dumps(
    {
        "subject": "A quick idea for Acme",
        "body": "Hello Ada,\n\nI noticed Acme is growing its sales team. " * 4,
        "confidence": 0.72,
        "risk": "low",
    }
)
COMPLETION = json.dumps(
    {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "bench",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
    }
).encode()


class Instant(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(COMPLETION)))
        self.end_headers()
        self.wfile.write(COMPLETION)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    calls = 200 if parser.parse_args().quick else 2000
    server = ThreadingHTTPServer(("127.0.0.1", 0), Instant)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        db.configure(url)
        tenant = create_tenant_with_users(slug="bench", name="Bench Ltd", email_domain="b.test")
        ctx = CallContext(
            tenant_id=tenant.tenant.id, prompt_key="bench", prompt_version=1, prompt_hash="0" * 64
        )
        config = LLMConfig(
            base_url=f"http://127.0.0.1:{server.server_address[1]}/v1",
            model="bench",
            mode=LLMMode.JSON_SCHEMA,
        )
        client = LLMClient(config)
        messages = [
            {"role": "system", "content": "You draft outreach emails."},
            {"role": "user", "content": "Lead: Ada Lovelace, CTO at Acme."},
        ]
        for _ in range(20):
            client.complete(Draft, messages, ctx=ctx)
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            client.complete(Draft, messages, ctx=ctx)
            samples.append((time.perf_counter() - started) * 1000)
        client.close()
        db.get_engine(url).dispose()
    server.shutdown()
    samples.sort()
    print(f"llm_overhead.p50_ms {statistics.median(samples):.3f} ms")
    print(f"llm_overhead.p95_ms {samples[int(len(samples) * 0.95) - 1]:.3f} ms")


if __name__ == "__main__":
    main()
