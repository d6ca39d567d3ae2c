"""Bulk rows for agent runs and the LLM calls attached to them."""

from __future__ import annotations

import hashlib
import json
import math

from domain.enums import Role
from services.seed.bulk_plan import BulkPlan, Row, Ts, expand, pool
from services.seed.vocab import MODELS, PROMPT_KEYS, words

# Runs cycle through this pattern, so "the nearest run of agent X" is cheap to find.
RUN_PATTERN = ("sdr", "sdr", "finance", "sales", "sdr", "investigator", "finance", "negotiation")
RUN_STATUSES = (("succeeded", 90), ("failed", 4), ("dead", 3), ("cancelled", 3))
OUTCOMES = (("ok", 85), ("repaired", 8), ("invalid", 4), ("timeout", 2), ("unavailable", 1))
TIMED_OUT = "Model call timed out after 60 s."
INVALID_ERRORS = json.dumps([{"loc": ["body"], "msg": "Field required", "type": "missing"}])
SUBJECTS = {
    "sdr": "lead",
    "sales": "deal",
    "negotiation": "deal",
    "finance": "invoice",
    "investigator": "investigation",
}


RUN_COLUMNS = words(
    "tenant_id agent trigger subject_type subject_id idempotency_key status attempts "
    "max_attempts error triggered_by_id started_at finished_at duration_ms created_at row_version"
)


def run_rows(plan: BulkPlan, ts: Ts, start: int, stop: int, total: int) -> list[Row]:
    """Agent runs [start, stop) of total, every agent.

    Finished statuses only: queued or retrying runs spread over 90 days would all be claimed
    by the worker the moment the console starts.
    """
    rng, tid = plan.rng, plan.tenant_id
    statuses = expand(RUN_STATUSES)
    triggers = expand((("schedule", 6), ("pipeline", 2), ("manual", 2)))
    manual_by = plan.users[Role.SDR]
    durations = pool(lambda: rng.lognormvariate(8.3, 0.6))  # median ~4 s, long tail
    rand = rng.random
    rows = []
    for i in range(start, stop):
        agent = RUN_PATTERN[i % len(RUN_PATTERN)]
        status = statuses[int(rand() * 100)]
        trigger = triggers[int(rand() * 10)]
        created = plan.time_at(i, total)
        attempts = 0 if status == "cancelled" else (3 if status == "dead" else 1)
        started = created + 0.2 + rand() * 20 if attempts else None
        duration = int(durations[int(rand() * 1024)]) if attempts else None
        finished = started + duration / 1000 if started and duration else created + 300
        rows.append(
            (
                tid,
                agent,
                trigger,
                SUBJECTS[agent],
                1 + int(rand() * 50_000),
                f"bulk:{plan.batch}:{i:09d}",
                status,
                attempts,
                3,
                None if status in {"succeeded", "cancelled"} else TIMED_OUT,
                manual_by if trigger == "manual" else None,
                ts(started) if started else None,
                ts(finished),
                duration,
                ts(created),
                1,
            )
        )
    return rows


LLM_COLUMNS = words(
    "tenant_id run_id prompt_key prompt_version prompt_hash model mode latency_ms prompt_tokens "
    "completion_tokens attempts reasks repaired validation_errors outcome error created_at"
)


def llm_rows(plan: BulkPlan, ts: Ts, start: int, stop: int, total: int) -> list[Row]:
    """LLM calls [start, stop) of total, attached in order to the runs just inserted."""
    rng, tid, runs = plan.rng, plan.tenant_id, plan.run_ids
    outcomes = expand(OUTCOMES)
    hashes = {
        (key, v): hashlib.sha256(f"{key}:v{v}".encode()).hexdigest()
        for keys in PROMPT_KEYS.values()
        for key in keys
        for v in (1, 2, 3)
    }
    keys_of = {a.value: keys for a, keys in PROMPT_KEYS.items()}
    modes = ("json_schema",) * 7 + ("tools", "tools", "json")
    latencies = pool(lambda: rng.lognormvariate(math.log(2300), 0.45))
    rand = rng.random
    rows = []
    for i in range(start, stop):
        j = i * len(runs) // total if runs else -1
        agent = RUN_PATTERN[j % len(RUN_PATTERN)] if runs else "sdr"
        keys = keys_of[agent]
        key = keys[i % len(keys)]
        version = 1 + (i * 3 // total)  # older calls ran older prompt versions
        outcome = outcomes[int(rand() * 100)]
        latency = int(latencies[int(rand() * 1024)])
        prompt_tokens, completion = 300 + int(rand() * 2200), 80 + int(rand() * 620)
        if outcome == "timeout":
            latency, completion = 60_000 + int(rand() * 400), 0
        elif outcome == "unavailable":
            latency, prompt_tokens, completion = 2 + int(rand() * 40), 0, 0
        invalid = outcome == "invalid"
        rows.append(
            (
                tid,
                runs[j] if runs else None,
                key,
                version,
                hashes[(key, version)],
                MODELS[i & 1],
                modes[i % 10],
                latency,
                prompt_tokens,
                completion,
                3 if invalid else 1,
                2 if invalid else 0,
                outcome == "repaired",
                INVALID_ERRORS if invalid else None,
                outcome,
                None if outcome in {"ok", "repaired"} else f"{outcome} after {latency} ms",
                ts(plan.time_at(i, total)),
            )
        )
    return rows


# For each agent and position in RUN_PATTERN: how far back the nearest run of that agent is.
_BACK = {
    agent: [
        next(b for b in range(len(RUN_PATTERN)) if RUN_PATTERN[(p - b) % len(RUN_PATTERN)] == agent)
        for p in range(len(RUN_PATTERN))
    ]
    for agent in set(RUN_PATTERN)
}


def run_near(run_ids: list[int], j: int, agent: str) -> int | None:
    """The id of a run of this agent at or just before position j (runs follow RUN_PATTERN)."""
    k = j - _BACK[agent][j % len(RUN_PATTERN)]
    return run_ids[k] if k >= 0 else None
