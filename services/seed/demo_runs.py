"""Demo agent runs over thirty days, and the LLM calls each run made."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from domain.enums import (
    AgentName,
    DealStage,
    InvoiceStatus,
    LLMMode,
    LLMOutcome,
    Role,
    RunStatus,
    RunTrigger,
)
from domain.models import AgentRun, LLMCall
from services.seed.context import DemoContext
from services.seed.demo_prompts import live_version, template
from services.seed.vocab import MODELS, PROMPT_KEYS, pick, sha256_hex, spread, weighted

RUNS = 360
TIMEOUT_MS = 60_000
SUBJECTS = {
    AgentName.SDR: "lead",
    AgentName.SALES: "deal",
    AgentName.NEGOTIATION: "deal",
    AgentName.FINANCE: "invoice",
    AgentName.INVESTIGATOR: "investigation",
}
TRIGGERER = {
    AgentName.SDR: Role.SDR,
    AgentName.SALES: Role.SALES,
    AgentName.NEGOTIATION: Role.SALES,
    AgentName.FINANCE: Role.FINANCE,
    AgentName.INVESTIGATOR: Role.ADMIN,
}
TOKENS = {  # prompt token range, completion token range
    AgentName.SDR: ((300, 1200), (120, 450)),
    AgentName.SALES: ((600, 1900), (200, 700)),
    AgentName.NEGOTIATION: ((700, 2000), (150, 500)),
    AgentName.FINANCE: ((300, 900), (80, 350)),
    AgentName.INVESTIGATOR: ((1200, 2500), (250, 700)),
}
OUTCOMES = {
    LLMOutcome.OK: 0.85,
    LLMOutcome.REPAIRED: 0.08,
    LLMOutcome.INVALID: 0.04,
    LLMOutcome.TIMEOUT: 0.02,
    LLMOutcome.UNAVAILABLE: 0.01,
}
FAILURES = {LLMOutcome.INVALID: 0.5, LLMOutcome.TIMEOUT: 0.3, LLMOutcome.UNAVAILABLE: 0.2}
RUN_ERRORS = {
    LLMOutcome.INVALID: "Model output failed validation after 2 re-asks (2 errors).",
    LLMOutcome.TIMEOUT: f"Model call timed out after {TIMEOUT_MS // 1000} s.",
    LLMOutcome.UNAVAILABLE: "Ollama unavailable: connection refused (http://gpu-box:11434/v1).",
}
VALIDATION_ERRORS = [
    {"loc": ["subject"], "msg": "String should have at most 120 characters", "type": "too_long"},
    {"loc": ["body"], "msg": "Field required", "type": "missing"},
    {"loc": ["discount_pct"], "msg": "Input should be less than or equal to 30", "type": "le"},
    {"loc": ["cited_event_ids", 0], "msg": "Input should be a valid integer", "type": "int"},
]


def _subjects(ctx: DemoContext) -> dict[AgentName, list[int]]:
    p, inc = ctx.pipeline, ctx.incidents
    return {
        AgentName.SDR: [ld.id for ld in p.leads if not ld.do_not_contact],
        AgentName.SALES: [d.id for d in p.deals],
        AgentName.NEGOTIATION: [d.id for d in p.deals if d.stage == DealStage.NEGOTIATION],
        AgentName.FINANCE: [
            i.id for i in p.invoices if i.status in {InvoiceStatus.OVERDUE, InvoiceStatus.ISSUED}
        ],
        AgentName.INVESTIGATOR: [i.id for i in inc.investigations],
    }


def seed_runs(ctx: DemoContext) -> None:
    """About 360 runs over 30 days in every status, each with 1-3 LLM calls once started."""
    rng = ctx.rng
    statuses = spread(
        rng,
        {
            RunStatus.QUEUED: 4,
            RunStatus.RUNNING: 3,
            RunStatus.RETRYING: 6,
            RunStatus.FAILED: 10,
            RunStatus.DEAD: 6,
            RunStatus.CANCELLED: 3,
            RunStatus.SUCCEEDED: RUNS - 32,
        },
    )
    mix = dict(zip(AgentName, (34, 16, 12, 22, 16), strict=True))
    agents = list(AgentName) + [weighted(rng, mix) for _ in range(RUNS - len(AgentName))]
    subjects = _subjects(ctx)
    runs: list[AgentRun] = []
    calls: list[tuple[AgentRun, list[dict[str, Any]]]] = []
    for i, (status, agent) in enumerate(zip(statuses, agents, strict=True)):
        run, run_calls = _run(ctx, i, agent, status, pick(rng, subjects[agent]))
        runs.append(run)
        calls.append((run, run_calls))
    runs.sort(key=lambda r: r.created_at)
    ctx.save(runs)
    # None values are left out: an explicit None in a JSON column is stored as JSON 'null'.
    ctx.save(
        [
            LLMCall(run_id=run.id, **{k: v for k, v in c.items() if v is not None})
            for run, cs in calls
            for c in cs
        ]
    )
    ctx.runs = runs


def _run(
    ctx: DemoContext, i: int, agent: AgentName, status: RunStatus, subject_id: int
) -> tuple[AgentRun, list[dict[str, Any]]]:
    rng, now = ctx.rng, ctx.now
    trigger = weighted(rng, dict(zip(RunTrigger, (25, 50, 5, 20), strict=True)))
    if status == RunStatus.QUEUED:
        created = now - timedelta(minutes=rng.uniform(0.2, 10))
    elif status == RunStatus.RUNNING:
        created = now - timedelta(minutes=rng.uniform(2, 15))
    elif status in {RunStatus.RETRYING, RunStatus.FAILED}:
        created = now - timedelta(hours=rng.uniform(0.5, 30))
    else:
        created = now - timedelta(days=rng.uniform(0.02, 30))
    attempts = {"queued": 0, "running": 1, "cancelled": 0, "dead": 3}.get(status.value)
    if attempts is None:
        retried = trigger == RunTrigger.RETRY or rng.random() < 0.15
        attempts = 2 if retried else 1
    started = created + timedelta(seconds=rng.uniform(0.5, 40)) if attempts else None
    calls = _calls(ctx, agent, status, started) if started else []
    finished = None
    if started and status != RunStatus.RUNNING:
        end = started + timedelta(milliseconds=sum(c["latency_ms"] for c in calls))
        finished = end + timedelta(milliseconds=rng.randint(40, 600))
    elif status == RunStatus.CANCELLED:
        finished = created + timedelta(minutes=rng.uniform(1, 20))
    error = None
    if status in {RunStatus.FAILED, RunStatus.DEAD, RunStatus.RETRYING}:
        error = RUN_ERRORS[LLMOutcome(calls[-1]["outcome"])]
    elif status == RunStatus.CANCELLED:
        error = f"Cancelled by {ctx.users[Role.ADMIN].display_name}."
    running = status == RunStatus.RUNNING
    worker = f"worker-{ctx.spec.slug}-{rng.randint(1, 3)}:{rng.randint(1000, 9999)}"
    retry_at = now + timedelta(minutes=rng.uniform(1, 20))
    duration = (finished - started) if finished and started else None
    subject_type = SUBJECTS[agent]
    run = AgentRun(
        tenant_id=ctx.tenant_id,
        agent=agent,
        trigger=trigger,
        subject_type=subject_type,
        subject_id=subject_id,
        idempotency_key=f"{agent.value}:{subject_type}:{subject_id}:{created:%Y%m%dT%H%M}:{i}",
        status=status,
        attempts=attempts,
        max_attempts=3,
        lease_owner=worker if running else None,
        lease_expires_at=now + timedelta(seconds=rng.uniform(30, 120)) if running else None,
        heartbeat_at=now - timedelta(seconds=rng.uniform(1, 20)) if running else None,
        next_attempt_at=retry_at if status == RunStatus.RETRYING else None,
        error=error,
        triggered_by_id=ctx.user_id(TRIGGERER[agent]) if trigger == RunTrigger.MANUAL else None,
        started_at=started,
        finished_at=finished,
        duration_ms=int(duration.total_seconds() * 1000) if duration else None,
        created_at=created,
    )
    return run, calls


def _calls(
    ctx: DemoContext, agent: AgentName, status: RunStatus, started: datetime
) -> list[dict[str, Any]]:
    rng = ctx.rng
    keys = PROMPT_KEYS[agent]
    outcomes = [weighted(rng, OUTCOMES) for _ in range(rng.choices([1, 2, 3], [5, 3, 2])[0])]
    if status in {RunStatus.FAILED, RunStatus.DEAD, RunStatus.RETRYING}:
        outcomes[-1] = weighted(rng, FAILURES)
    elif outcomes[-1] not in {LLMOutcome.OK, LLMOutcome.REPAIRED}:
        outcomes[-1] = LLMOutcome.OK
    (p_lo, p_hi), (c_lo, c_hi) = TOKENS[agent]
    model = pick(rng, MODELS)
    mode = weighted(rng, {LLMMode.JSON_SCHEMA: 70, LLMMode.TOOLS: 20, LLMMode.JSON: 10})
    at, rows = started, []
    for k, outcome in enumerate(outcomes):
        key = keys[min(k, len(keys) - 1)]
        version = live_version(key, at, ctx.now)
        prompt_tokens = int(rng.triangular(p_lo, p_hi, p_lo + (p_hi - p_lo) / 3))
        completion = int(rng.triangular(c_lo, c_hi, c_lo + (c_hi - c_lo) / 3))
        latency = rng.lognormvariate(math.log(2300), 0.45) * (0.7 + prompt_tokens / 3000)
        if rng.random() < 0.03:
            latency *= rng.uniform(2, 5)  # cold model load / GPU contention
        failed = outcome in {LLMOutcome.TIMEOUT, LLMOutcome.UNAVAILABLE}
        if outcome == LLMOutcome.TIMEOUT:
            latency, completion = TIMEOUT_MS + rng.uniform(0, 400), 0
        elif outcome == LLMOutcome.UNAVAILABLE:
            latency, prompt_tokens, completion = rng.uniform(2, 40), 0, 0
        reasks = 2 if outcome == LLMOutcome.INVALID else (1 if rng.random() < 0.06 else 0)
        latency_ms = int(min(latency * (1 + reasks), 120_000))
        at += timedelta(milliseconds=latency_ms)
        errors = rng.sample(VALIDATION_ERRORS, 2) if outcome == LLMOutcome.INVALID else None
        rows.append(
            {
                "tenant_id": ctx.tenant_id,
                "prompt_key": key,
                "prompt_version": version,
                "prompt_hash": sha256_hex(template(key, version)),
                "model": model,
                "mode": mode,
                "latency_ms": latency_ms,
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion,
                "attempts": 1 + reasks if not failed else 1,
                "reasks": reasks if not failed else 0,
                "repaired": outcome == LLMOutcome.REPAIRED,
                "validation_errors": errors,
                "outcome": outcome,
                "error": RUN_ERRORS.get(outcome),
                "raw_output": _raw_output(outcome),
                "created_at": min(at, ctx.now - timedelta(seconds=1)),
            }
        )
    return rows


def _raw_output(outcome: LLMOutcome) -> str | None:
    if outcome == LLMOutcome.REPAIRED:
        return '{"subject": "Quick question about your Q3 rollout", "body": "Hi,\\n...",}'
    if outcome == LLMOutcome.INVALID:
        return '{"subject": "Following up on our proposal and the revised terms we discussed"}'
    return None
