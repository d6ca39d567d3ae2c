"""Fast bulk load of agent runs, LLM calls and review items for the metrics benchmark.

SQLite: executemany on the raw DB-API connection in one transaction. PostgreSQL: COPY.
Rows are generated in created_at order over the last ``days`` days, deterministically (seeded).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from services.metrics import rollup_sql

AGENTS = ["sdr", "sales", "negotiation", "finance", "investigator"]
TRIGGERS = ["manual", "schedule", "retry", "pipeline"]
# status, weight
STATUSES = [
    ("succeeded", 85), ("failed", 4), ("dead", 2), ("retrying", 1), ("queued", 4),
    ("running", 2), ("cancelled", 2),
]  # fmt: skip
MODELS = ["llama3.2", "qwen2.5:7b", "mistral-small"]
OUTCOMES = [
    ("ok", 86), ("repaired", 6), ("invalid", 4), ("timeout", 2), ("unavailable", 1), ("error", 1),
]  # fmt: skip
KINDS = {
    "sdr": "outreach_email", "sales": "deal_proposal", "negotiation": "counter_offer",
    "finance": "dunning_notice", "investigator": "rca_hypothesis",
}  # fmt: skip
REVIEW = [("approved", 40), ("executed", 25), ("rejected", 15), ("expired", 5), ("pending", 15)]
REASONS = ["wrong_facts", "tone", "policy", "duplicate", "not_needed", "other"]

RUN_COLS = (
    "id, tenant_id, agent, trigger, subject_type, subject_id, idempotency_key, status, attempts, "
    "max_attempts, error, created_at, started_at, finished_at, duration_ms, row_version"
)
CALL_COLS = (
    "tenant_id, run_id, prompt_key, prompt_version, prompt_hash, model, mode, latency_ms, "
    "prompt_tokens, completion_tokens, attempts, reasks, repaired, outcome, error, raw_output, "
    "created_at"
)
ITEM_COLS = (
    "tenant_id, kind, status, subject_type, subject_id, subject_label, payload, "
    "original_payload, edit_distance, search_text, confidence, risk, priority, due_at, run_id, "
    "drafted_by, decided_by_id, decided_at, reason_code, execution_attempts, created_at, "
    "row_version"
)


def _weighted(rng: random.Random, table: list[tuple[str, int]]) -> Callable[[], str]:
    names = [n for n, _ in table]
    weights = [w for _, w in table]
    return lambda: rng.choices(names, weights)[0]


def generate(
    tenant_id: int, reviewer_id: int, runs: int, calls: int, days: int, now: datetime
) -> tuple[Iterator[tuple[Any, ...]], Iterator[tuple[Any, ...]], Iterator[tuple[Any, ...]]]:
    """Three row streams (runs, calls, review items); consume them in that order."""
    rng = random.Random(5)
    status = _weighted(rng, STATUSES)
    outcome = _weighted(rng, OUTCOMES)
    review = _weighted(rng, REVIEW)
    start = now - timedelta(days=days)
    step = days * 86400.0 / runs
    per_run = calls / runs
    plan: list[tuple[int, datetime, str]] = []

    def run_rows() -> Iterator[tuple[Any, ...]]:
        for i in range(runs):
            created = start + timedelta(seconds=i * step)
            agent = AGENTS[i % len(AGENTS)]
            st = status()
            attempts = 0 if st == "queued" else (1 if rng.random() < 0.9 else rng.randint(2, 3))
            dur = None if st in ("queued", "running") else int(rng.lognormvariate(8.5, 0.6))
            fin = created + timedelta(milliseconds=dur) if dur else None
            err = "model timed out" if st in ("failed", "dead") else None
            plan.append((i + 1, created, agent))
            yield (
                i + 1, tenant_id, agent, TRIGGERS[i % 4], "lead", i, f"b{i}", st, attempts, 3,
                err, created, created if dur else None, fin, dur, 1,
            )  # fmt: skip

    def call_rows() -> Iterator[tuple[Any, ...]]:
        made = 0
        for run_id, created, agent in plan:
            n = int(per_run * (run_id)) - made
            made += n
            version = 1 + int(4 * (created - start).total_seconds() / (days * 86400))
            for k in range(n):
                out = outcome()
                failed = out not in ("ok", "repaired")
                reasks = 0 if rng.random() < 0.85 else rng.randint(1, 2)
                yield (
                    tenant_id, run_id, f"{agent}.draft", version, "0" * 64,
                    MODELS[(run_id + k) % 3], "json_schema", int(rng.lognormvariate(7.2, 0.7)),
                    rng.randint(300, 1500), rng.randint(50, 400), reasks + 1, reasks,
                    out == "repaired", out, "failed" if failed else None,
                    "not json" if failed else None, created + timedelta(seconds=k),
                )  # fmt: skip

    def item_rows() -> Iterator[tuple[Any, ...]]:
        for run_id, created, agent in plan[::5]:
            st = review()
            decided = st in ("approved", "executed", "rejected")
            at = created + timedelta(minutes=rng.randint(5, 600)) if decided else None
            edit = (
                rng.randint(1, 80) if decided and st != "rejected" and rng.random() < 0.4 else None
            )
            reason = rng.choice(REASONS) if st == "rejected" else None
            yield (
                tenant_id, KINDS[agent], st, "lead", run_id, f"Lead {run_id}", "{}", "{}", edit,
                "", 0.7, "low", 2, created + timedelta(hours=8), run_id, agent,
                reviewer_id if decided else None, at, reason, 0, created + timedelta(seconds=30), 1,
            )  # fmt: skip

    return run_rows(), call_rows(), item_rows()


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, bool):
        return int(v)
    return v


def load(engine: Engine, streams: tuple[Iterator[tuple[Any, ...]], ...]) -> None:
    """Insert the three streams with the rollup triggers off, then rebuild the rollups once."""
    with engine.begin() as conn:
        rollup_sql.drop(conn)
    tables = (("agent_runs", RUN_COLS), ("llm_calls", CALL_COLS), ("review_items", ITEM_COLS))
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("BEGIN")
        for (table, cols), rows in zip(tables, streams, strict=True):
            if engine.dialect.name == "sqlite":
                marks = ", ".join("?" * len(cols.split(",")))
                cur.executemany(
                    f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                    (tuple(_sqlite_value(v) for v in row) for row in rows),
                )
            else:
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in rows:
                        copy.write_row(row)
            print(f"# inserted {table} after {time.perf_counter() - started:.1f} s", flush=True)
        if engine.dialect.name == "sqlite":
            cur.execute("COMMIT")
        else:
            raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        # Statistics first, so the planner joins the fresh tables sensibly in the rebuild.
        conn.execute(text("ANALYZE"))
        if engine.dialect.name == "postgresql":
            last = "(SELECT max(id) FROM agent_runs)"
            conn.execute(text(f"SELECT setval('agent_runs_id_seq', {last})"))
        rollup_sql.rebuild(conn)
        rollup_sql.install(conn)
    # A settled database, as autovacuum leaves it (index-only scans need the visibility map).
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    print(f"# rollups rebuilt after {time.perf_counter() - started:.1f} s", flush=True)
