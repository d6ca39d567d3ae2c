"""A small fixed dataset for the metrics tests; every expected figure is computed by hand in
the tests from the rows below.

Period under test: 2026-11-10 00:00 to 2026-11-12 00:00 UTC (two day buckets). Runs r7 (the
day before) and the south tenant's rows must never show up in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.enums import (
    AgentName,
    LLMMode,
    LLMOutcome,
    ReasonCode,
    ReviewKind,
    ReviewStatus,
    Role,
    RunStatus,
    RunTrigger,
)
from domain.models import AgentRun, LLMCall, Prompt, ReviewItem
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork

DAY1 = datetime(2026, 11, 10, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
END = DAY1 + timedelta(days=2)
NOW = END  # "now" for queue health


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


@dataclass
class Dataset:
    runs: dict[str, int] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)


# name: created_at, agent, trigger, status, attempts, duration_ms
RUNS: dict[str, tuple[datetime, AgentName, RunTrigger, RunStatus, int, int | None]] = {
    "r1": (at(DAY1, 10), AgentName.SDR, RunTrigger.MANUAL, RunStatus.SUCCEEDED, 1, 1000),
    "r2": (at(DAY1, 11), AgentName.SDR, RunTrigger.SCHEDULE, RunStatus.SUCCEEDED, 2, 3000),
    "r3": (at(DAY1, 12), AgentName.SDR, RunTrigger.MANUAL, RunStatus.FAILED, 1, 2000),
    "r4": (at(DAY2, 9), AgentName.FINANCE, RunTrigger.PIPELINE, RunStatus.DEAD, 3, 5000),
    "r5": (at(DAY2, 10), AgentName.FINANCE, RunTrigger.MANUAL, RunStatus.SUCCEEDED, 1, 4000),
    "r6": (at(DAY2, 11), AgentName.SDR, RunTrigger.MANUAL, RunStatus.QUEUED, 0, None),
    "r7": (at(DAY1 - timedelta(days=1), 12), AgentName.SDR, RunTrigger.MANUAL,
           RunStatus.SUCCEEDED, 1, 9000),
}  # fmt: skip

# name: run, minutes after the run, model, prompt key, version, latency, tokens in/out,
#       reasks, repaired, outcome
LLAMA, QWEN = "llama3.2", "qwen2.5"
SDR_P, FIN_P = "sdr.outreach", "finance.dunning"
CALLS: dict[str, tuple[str | None, int, str, str, int, int, int, int, int, bool, LLMOutcome]] = {
    "c1": ("r1", 1, LLAMA, SDR_P, 1, 1000, 100, 50, 0, False, LLMOutcome.OK),
    "c2": ("r2", 1, LLAMA, SDR_P, 2, 2000, 200, 100, 1, True, LLMOutcome.REPAIRED),
    "c3": ("r2", 2, LLAMA, SDR_P, 2, 3000, 100, 0, 2, False, LLMOutcome.INVALID),
    "c4": ("r3", 1, LLAMA, SDR_P, 2, 4000, 100, 0, 0, False, LLMOutcome.TIMEOUT),
    "c5": ("r4", 1, QWEN, FIN_P, 1, 500, 300, 150, 0, False, LLMOutcome.UNAVAILABLE),
    "c6": ("r5", 1, QWEN, FIN_P, 1, 1500, 300, 150, 0, False, LLMOutcome.OK),
    "c7": ("r7", 1, LLAMA, SDR_P, 1, 999, 1, 1, 0, False, LLMOutcome.OK),
    # A call made outside any run (a playground test), at DAY1 15:00.
    "c9": (None, 0, LLAMA, SDR_P, 1, 3000, 10, 10, 0, False, LLMOutcome.OK),
}
RAW_FAILED = '=HYPERLINK("http://evil.test")  <b>not json</b>'

# name: run, created_at, drafted_by, kind, status, edit distance, reason, decided after
#       (minutes), decided by role, due_at
ITEMS: dict[str, tuple[Any, ...]] = {
    "i1": ("r1", at(DAY1, 10, 5), "sdr", ReviewKind.OUTREACH_EMAIL, ReviewStatus.APPROVED,
           None, None, 60, Role.REVIEWER, None),
    "i2": ("r2", at(DAY1, 11, 10), "sdr", ReviewKind.OUTREACH_EMAIL, ReviewStatus.EXECUTED,
           12, None, 120, Role.REVIEWER, None),
    "i3": ("r2", at(DAY1, 11, 20), "sdr", ReviewKind.OUTREACH_EMAIL, ReviewStatus.REJECTED,
           None, ReasonCode.TONE, 30, Role.SDR, None),
    "i4": ("r5", at(DAY2, 10, 5), "finance", ReviewKind.DUNNING_NOTICE, ReviewStatus.APPROVED,
           4, None, 240, Role.FINANCE, None),
    "i5": ("r5", at(DAY2, 10, 10), "finance", ReviewKind.DUNNING_NOTICE,
           ReviewStatus.REJECTED, None, ReasonCode.WRONG_FACTS, 60, Role.FINANCE, None),
    "i6": ("r4", at(DAY2, 9, 10), "finance", ReviewKind.DUNNING_NOTICE, ReviewStatus.EXPIRED,
           None, None, None, None, None),
    "i7": (None, at(DAY1, 13), "sdr", ReviewKind.OUTREACH_EMAIL, ReviewStatus.PENDING,
           None, None, None, None, at(DAY1, 17)),
    "i8": ("r1", at(DAY1, 10, 5), "sdr", ReviewKind.OUTREACH_EMAIL, ReviewStatus.REJECTED,
           None, ReasonCode.TONE, 10, Role.SDR, None),
    "i9": (None, at(DAY1 - timedelta(days=2), 12), "sales", ReviewKind.DEAL_PROPOSAL,
           ReviewStatus.PENDING, None, None, None, None, END + timedelta(days=1)),
    "i10": (None, at(DAY2, 23, 30), "sdr", ReviewKind.OUTREACH_EMAIL, ReviewStatus.PENDING,
            None, None, None, None, END + timedelta(hours=4)),
}  # fmt: skip


def _run(tenant_id: int, name: str, spec: tuple[Any, ...]) -> AgentRun:
    created, agent, trigger, status, attempts, duration = spec
    return AgentRun(
        tenant_id=tenant_id,
        agent=agent,
        trigger=trigger,
        subject_type="lead",
        subject_id=1,
        idempotency_key=f"{name}-{tenant_id}",
        status=status,
        attempts=attempts,
        created_at=created,
        started_at=created if duration else None,
        finished_at=created + timedelta(milliseconds=duration) if duration else None,
        duration_ms=duration,
        error="model timed out" if status in (RunStatus.FAILED, RunStatus.DEAD) else None,
    )


def seed_metrics(north: TenantWithUsers, south: TenantWithUsers) -> Dataset:
    """Write the dataset for north, and a decoy run, call and item for south."""
    data = Dataset()
    nid = north.tenant.id
    with UnitOfWork(None) as uow:
        s = uow.session
        runs = {name: _run(nid, name, spec) for name, spec in RUNS.items()}
        s.add_all(runs.values())
        s.add_all(
            Prompt(tenant_id=nid, key=k, version=v, template="...", is_active=v == 2)
            for k, v in ((SDR_P, 1), (SDR_P, 2), (FIN_P, 1))
        )
        s.flush()
        calls = {}
        for name, (run, minutes, model, key, version, ms, p, c, reasks, rep, out) in CALLS.items():
            created = runs[run].created_at + timedelta(minutes=minutes) if run else at(DAY1, 15)
            failed = out not in (LLMOutcome.OK, LLMOutcome.REPAIRED)
            calls[name] = LLMCall(
                tenant_id=nid,
                run_id=runs[run].id if run else None,
                prompt_key=key,
                prompt_version=version,
                prompt_hash="0" * 64,
                model=model,
                mode=LLMMode.JSON_SCHEMA,
                latency_ms=ms,
                prompt_tokens=p,
                completion_tokens=c,
                reasks=reasks,
                attempts=reasks + 1,
                repaired=rep,
                outcome=out,
                error=f"{out.value}: the model failed" if failed else None,
                raw_output=RAW_FAILED if failed else '{"ok": true}',
                created_at=created,
            )
        s.add_all(calls.values())
        s.flush()  # as in real runs: the LLM calls exist before the drafts they produced
        items = {}
        for name, spec in ITEMS.items():
            run, created, by, kind, status, dist, reason, after, role, due = spec
            items[name] = ReviewItem(
                tenant_id=nid,
                kind=kind,
                status=status,
                subject_type="lead",
                subject_id=1,
                subject_label=f"Subject of {name}",
                payload={"n": name},
                original_payload={"n": name},
                edit_distance=dist,
                confidence=0.7,
                due_at=due or created + timedelta(hours=8),
                run_id=runs[run].id if run else None,
                drafted_by=by,
                decided_at=created + timedelta(minutes=after) if after is not None else None,
                decided_by_id=north.users[role].id if role else None,
                reason_code=reason,
                created_at=created,
            )
        s.add_all(items.values())
        _decoys(uow, south)
        s.flush()
        data.runs = {k: v.id for k, v in runs.items()}
        data.calls = {k: v.id for k, v in calls.items()}
        data.items = {k: v.id for k, v in items.items()}
        uow.commit()
    return data


def _decoys(uow: UnitOfWork, south: TenantWithUsers) -> None:
    sid = south.tenant.id
    run = _run(
        sid,
        "r8",
        (at(DAY1, 10), AgentName.SDR, RunTrigger.MANUAL, RunStatus.SUCCEEDED, 5, 100_000),
    )
    uow.session.add(run)
    uow.session.flush()
    uow.session.add(
        LLMCall(
            tenant_id=sid, run_id=run.id, prompt_key=SDR_P, prompt_version=9, prompt_hash="1",
            model=LLAMA, mode=LLMMode.JSON, latency_ms=77_000, prompt_tokens=9999,
            completion_tokens=9999, outcome=LLMOutcome.TIMEOUT, created_at=at(DAY1, 10, 1),
        )
    )  # fmt: skip
    uow.session.flush()
    uow.session.add(
        ReviewItem(
            tenant_id=sid, kind=ReviewKind.OUTREACH_EMAIL, status=ReviewStatus.PENDING,
            subject_type="lead", subject_id=1, subject_label="South", payload={},
            original_payload={}, confidence=0.5, due_at=at(DAY1, 1), run_id=run.id,
            drafted_by="sdr", created_at=at(DAY1, 10, 2),
        )
    )  # fmt: skip
