"""Real inputs for the connector tests: a git repository, JUnit XML, logs, metrics, spans."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def ingest_root(tmp_path: Path, settings: Callable[..., None]) -> Path:
    """An ingest root (REVO_INGEST_ROOTS), with retries that do not sleep."""
    root = tmp_path / "ingest"
    root.mkdir()
    settings(ingest_roots=root, ingest_retry_backoff_s=0)
    return root


def git(repo: Path, *args: str, when: datetime | None = None) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent)}
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = iso(when)
    out = subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def commit(repo: Path, path: str, text: str, message: str, when: datetime) -> str:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(repo, "add", path)
    git(repo, "commit", "-q", "-m", message, when=when)
    return git(repo, "rev-parse", "HEAD")


def make_repo(root: Path) -> Path:
    """Three commits on main and a merged feature branch (a merge commit with a PR ref)."""
    repo = root / "shop"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Ada Lovelace")
    git(repo, "config", "user.email", "ada@example.test")
    commit(repo, "checkout/cart.py", "v1", "Add cart", T0)
    commit(repo, "payments/api.py", "v1", "Add payments API", T0 + timedelta(minutes=5))
    git(repo, "checkout", "-q", "-b", "feature/fast-cart")
    commit(repo, "checkout/cart.py", "v2", "Speed up cart totals", T0 + timedelta(minutes=10))
    git(repo, "checkout", "-q", "main")
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "feature/fast-cart",
        "-m",
        "Merge pull request #7 from team/fast-cart",
        when=T0 + timedelta(minutes=20),
    )
    return repo


JUNIT = f"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="checkout-unit" tests="3" failures="1" timestamp="{iso(T0)}">
    <properties><property name="service" value="checkout"/></properties>
    <testcase classname="cart.Totals" name="test_sum"/>
    <testcase classname="cart.Totals" name="test_discount">
      <failure message="expected 90, got 100">AssertionError</failure>
    </testcase>
    <testcase classname="cart.Totals" name="test_tax"/>
  </testsuite>
  <testsuite name="legacy" tests="1" timestamp="2026-11-20T10:00:00">
    <testcase classname="old" name="test_x"/>
  </testsuite>
</testsuites>
"""


def deploy(
    build_id: str, service: str, at: datetime, status: str = "succeeded"
) -> dict[str, object]:
    return {
        "kind": "deploy",
        "id": build_id,
        "status": status,
        "service": service,
        "environment": "production",
        "commit_sha": "abc123",
        "started_at": iso(at),
        "finished_at": iso(at + timedelta(minutes=2)),
    }


def log_line(at: datetime, service: str, level: str = "error", message: str = "boom") -> str:
    return json.dumps(
        {
            "ts": iso(at),
            "level": level,
            "service": service,
            "message": message,
            "request_id": f"{service}-{at.timestamp()}-{message}",
        }
    )


def logs_with_spike() -> str:
    """One error a minute for 15 minutes, then 30 errors in minute 15, and info noise."""
    lines = [log_line(T0 + timedelta(minutes=m), "checkout", message=f"e{m}") for m in range(15)]
    lines += [
        log_line(T0 + timedelta(minutes=15, seconds=s), "checkout", message=f"spike{s}")
        for s in range(30)
    ]
    lines += [log_line(T0 + timedelta(minutes=m), "search", "info", f"ok{m}") for m in range(20)]
    return "\n".join(lines) + "\n"


def metrics_with_anomaly() -> str:
    rows = ["timestamp,service,metric,value"]
    for m in range(30):
        value = 500.0 if m == 25 else 100.0 + (m % 3)
        rows.append(f"{iso(T0 + timedelta(minutes=m))},checkout,latency_p95_ms,{value}")
    return "\n".join(rows) + "\n"


def spans() -> str:
    base = {"trace_id": "t1", "service": "checkout", "name": "POST /cart", "status": "ok"}
    items = [
        {**base, "span_id": "a", "start": iso(T0), "duration_ms": 30},
        {**base, "span_id": "b", "start": iso(T0), "duration_ms": 2500},
        {**base, "span_id": "c", "start": iso(T0), "duration_ms": 40, "status": "error"},
    ]
    return "\n".join(json.dumps(i) for i in items) + "\n"
