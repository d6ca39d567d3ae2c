"""Agent gateway: submit latency, decision-to-long-poller latency, RSS of 500 waiting clients.

    python -m bench.api [--quick]

Serves the API (mounted at /api as in the console) with uvicorn in a child process on SQLite,
then prints one line per figure, ``<metric> <value> <unit>``:

    api.submit.p50_ms / api.submit.p95_ms                POST /api/v1/reviews, one client
    api.submit.server_cpu_ms                             server CPU per submit (steadier than
                                                         latency on a loaded machine)
    api.decision_to_poller.p50_ms / ...p95_ms            a reviewer's approval in the serving
                                                         process to the long-poller's answer
    api.rss_before_mb / api.rss_growth_mb                server RSS, and its growth with the
                                                         waiting clients
    api.waiting_clients                                  how many were still waiting when measured

Targets: submit p95 <= 20 ms, decision p95 <= 1000 ms, RSS growth <= 100 MB (500 clients).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from domain.enums import Role
from services import api_tokens, db, migrate
from services import review as reviews
from services.actor import Actor
from services.api_tokens import ApiTokenCreate, Scope
from services.tenants import create_tenant_with_users, find_tenant

ACTION = {
    "kind": "action",
    "action": {"title": "Deploy web 1.2.3", "data": {"version": "1.2.3"}, "display": "key_value"},
}


async def _decide(request: Request) -> JSONResponse:
    """Bench-only: a reviewer approves in the serving process, as the console would."""
    tenant = find_tenant(slug="bench")
    assert tenant is not None
    reviewer = Actor(
        user_id=int(os.environ["BENCH_REVIEWER_ID"]),
        tenant_id=tenant.id,
        role=Role.REVIEWER,
        label="Bench reviewer",
    )
    item_id = int(request.path_params["item_id"])
    version = int(request.query_params["version"])
    await asyncio.to_thread(reviews.approve, actor=reviewer, item_id=item_id, seen_version=version)
    return JSONResponse({"ok": True, "at": time.time()})


def app() -> Starlette:
    """The served app: ops routes and /api as in the console, plus the bench's decide route."""
    from api import create_app, ops

    db.configure(os.environ["REVO_DATABASE_URL"])
    return Starlette(
        routes=[
            *ops.routes(),
            Route("/bench/decide/{item_id}", _decide, methods=["POST"]),
            Mount("/api", app=create_app()),
        ]
    )


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _line(metric: str, value: float, unit: str) -> None:
    shown = str(value) if isinstance(value, int) else f"{value:.1f}"
    print(f"{metric} {shown} {unit}", flush=True)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used (less sensitive to load than latency)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


async def _measure(
    base: str, token: str, pid: int, submits: int, decisions: int, waiters: int
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=waiters + 50, max_keepalive_connections=waiters + 50)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=120, limits=limits
    ) as http:
        for i in range(20):  # warm up
            await http.post("/api/v1/reviews", json=ACTION, headers={"Idempotency-Key": f"w{i}"})
        took = []
        cpu = _cpu_s(pid)
        for i in range(submits):
            started = time.perf_counter()
            r = await http.post(
                "/api/v1/reviews", json=ACTION, headers={"Idempotency-Key": f"s{i}"}
            )
            took.append((time.perf_counter() - started) * 1000)
            assert r.status_code == 201, r.text
        _line("api.submit.p50_ms", _p(took, 50), "ms")
        _line("api.submit.p95_ms", _p(took, 95), "ms")
        _line("api.submit.server_cpu_ms", (_cpu_s(pid) - cpu) * 1000 / submits, "ms")
        _line("api.submit.n", submits, "requests")

        lags = []
        for i in range(decisions):
            item = (
                await http.post(
                    "/api/v1/reviews", json=ACTION, headers={"Idempotency-Key": f"d{i}"}
                )
            ).json()
            poll = asyncio.create_task(http.get(f"/api/v1/reviews/{item['id']}?wait=30"))
            await asyncio.sleep(0.2)
            decided = time.perf_counter()
            await http.post(f"/bench/decide/{item['id']}?version={item['row_version']}")
            answer = await poll
            lags.append((time.perf_counter() - decided) * 1000)
            assert answer.json()["status"] == "approved", answer.text
        _line("api.decision_to_poller.p50_ms", _p(lags, 50), "ms")
        _line("api.decision_to_poller.p95_ms", _p(lags, 95), "ms")
        _line("api.decision_to_poller.n", decisions, "decisions")

        ids = []
        for i in range(waiters):
            r = await http.post(
                "/api/v1/reviews", json=ACTION, headers={"Idempotency-Key": f"x{i}"}
            )
            ids.append(r.json()["id"])
        before = _rss_mb(pid)
        polls = [asyncio.create_task(http.get(f"/api/v1/reviews/{i}?wait=20")) for i in ids]
        await asyncio.sleep(8)
        during = _rss_mb(pid)
        pending = sum(not p.done() for p in polls)
        _line("api.rss_before_mb", before, "MB")
        _line("api.rss_growth_mb", during - before, "MB")
        _line("api.waiting_clients", pending, "clients")
        await asyncio.gather(*polls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    submits, decisions, waiters = (50, 10, 100) if args.quick else (300, 40, 500)
    tmp = Path(tempfile.mkdtemp(prefix="revo-bench-api-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    migrate.upgrade(url)
    db.configure(url)
    tenant = create_tenant_with_users(slug="bench", name="Bench Ltd", email_domain="bench.test")
    secret = api_tokens.create_token(
        actor=tenant.actor(Role.ADMIN),
        token_in=ApiTokenCreate(name="bench", scopes=list(Scope), rate_limit_per_minute=100_000),
    ).secret
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "REVO_DATABASE_URL": url,
        "REVO_EMBEDDED_WORKER": "false",
        "BENCH_REVIEWER_ID": str(tenant.users[Role.REVIEWER].id),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.api:app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--limit-concurrency",
            "2000",
        ],
        env=env,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        asyncio.run(_measure(base, secret, server.pid, submits, decisions, waiters))
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
