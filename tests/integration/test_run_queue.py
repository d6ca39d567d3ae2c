"""The run queue and its workers: idempotency, retries, cancel, leases, real worker processes."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cli import main as revo
from domain.enums import AgentName, LLMOutcome, Role, RunStatus
from domain.models import AgentRun, AuditEntry, LLMCall, ReviewItem
from services import db, logs, run_lease, runs, worker
from services.agents import runner
from services.errors import InvalidTransition
from services.tenants import TenantWithUsers, create_tenant_with_users
from tests import agent_data
from tests.scripted_llm import Reply, ScriptedLLM, configured
from tests.support.databases import clear_tables
from tests.support.runs import OUTREACH, enqueue_leads

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedLLM]:
    server = ScriptedLLM(answers={"OutreachDraft": OUTREACH})
    with configured(monkeypatch, server):
        yield server
    server.close()


def count(model: type) -> int:
    with db.session_factory()() as session:
        return len(session.scalars(select(model)).all())


def spawn_worker(url: str, name: str, llm: ScriptedLLM, **env: str) -> subprocess.Popen[bytes]:
    environ = {
        **os.environ,
        "REVO_DATABASE_URL": url,
        "REVO_LLM_BASE_URL": llm.url,
        "REVO_LLM_TRANSPORT_ATTEMPTS": "1",
        "REVO_WORKER_POLL_S": "0.1",
        **env,
    }
    cmd = [sys.executable, "-m", "cli", "worker", "--once", "--id", name]
    return subprocess.Popen(cmd, cwd=ROOT, env=environ, stderr=subprocess.PIPE)


def test_enqueuing_the_same_key_twice_returns_the_same_run(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    north = two_tenants[0]
    actor = north.actor(Role.SDR)
    lead_id = agent_data.lead(north.tenant.id)
    first = runs.enqueue(actor=actor, agent=AgentName.SDR, subject_id=lead_id, idempotency_key="k1")
    again = runs.enqueue(actor=actor, agent=AgentName.SDR, subject_id=lead_id, idempotency_key="k1")
    other = runs.enqueue(actor=actor, agent=AgentName.SDR, subject_id=lead_id, idempotency_key="k2")
    assert first.id == again.id != other.id
    assert count(AgentRun) == 2


def test_failing_run_retries_with_backoff_and_then_is_dead(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    llm.answers["OutreachDraft"] = '{"subject": "x"}'
    [run_id] = enqueue_leads(two_tenants[0], 1, max_attempts=3)
    assert worker.run_worker(worker_id="w", once=True) == 3
    run = runs.get_run(actor=two_tenants[0].actor(Role.ADMIN), run_id=run_id)
    assert (run.status, run.attempts) == (RunStatus.DEAD, 3)
    assert run.error and "did not fit" in run.error
    with db.session_factory()() as session:
        outcomes = session.scalars(select(LLMCall.outcome).where(LLMCall.run_id == run_id)).all()
        actions = session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.entity_type == "agent_run", AuditEntry.entity_id == run_id)
            .order_by(AuditEntry.id)
        ).all()
    assert outcomes == [LLMOutcome.INVALID] * 3
    expected = ["run.enqueued"] + ["run.claimed", "run.retrying"] * 2 + ["run.claimed", "run.dead"]
    assert actions == expected


def test_a_failing_run_logs_json_lines_naming_its_tenant_run_agent_and_worker(
    llm: ScriptedLLM,
    two_tenants: tuple[TenantWithUsers, TenantWithUsers],
    settings: Callable[..., None],
) -> None:
    llm.answers["OutreachDraft"] = '{"subject": "x"}'
    [run_id] = enqueue_leads(two_tenants[0], 1, max_attempts=1)
    settings(log_format="json")
    logger = logging.getLogger(logs.LOGGER)
    saved = logger.handlers, logger.propagate, logger.level
    out = io.StringIO()
    try:
        logs.configure(stream=out)
        worker.run_worker(worker_id="w-json", once=True)
    finally:
        logger.handlers, logger.propagate = saved[0], saved[1]
        logger.setLevel(saved[2])
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    failed = next(r for r in records if r["message"].startswith(f"run {run_id} failed"))
    assert failed["level"] == "WARNING" and failed["logger"] == "services.agents.runner"
    assert (failed["run_id"], failed["tenant_id"]) == (run_id, two_tenants[0].tenant.id)
    assert (failed["agent"], failed["worker"]) == ("sdr", "w-json")


def test_retry_waits_for_its_backoff(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    llm.answers["OutreachDraft"] = '{"subject": "x"}'
    with configured(monkeypatch, llm, REVO_WORKER_RETRY_BASE_S="60"):
        [run_id] = enqueue_leads(two_tenants[0], 1)
        assert worker.run_worker(worker_id="w", once=True) == 1
    run = runs.get_run(actor=two_tenants[0].actor(Role.ADMIN), run_id=run_id)
    assert run.status is RunStatus.RETRYING and run.next_attempt_at and run.started_at
    wait = (run.next_attempt_at - run.started_at).total_seconds()
    assert 45 <= wait <= 75


def test_unreachable_model_keeps_runs_waiting_without_using_up_attempts(
    two_tenants: tuple[TenantWithUsers, TenantWithUsers], monkeypatch: pytest.MonkeyPatch
) -> None:
    with configured(monkeypatch, None, REVO_WORKER_RETRY_BASE_S="0"):
        [run_id, _] = enqueue_leads(two_tenants[0], 2, max_attempts=1)
        assert worker.run_worker(worker_id="w", once=True) == 1  # stops instead of spinning
        url = os.environ["REVO_LLM_BASE_URL"]
    run = runs.get_run(actor=two_tenants[0].actor(Role.ADMIN), run_id=run_id)
    assert (run.status, run.attempts) == (RunStatus.RETRYING, 0)
    assert run.error and url in run.error
    assert run.next_attempt_at and run.started_at
    assert (run.next_attempt_at - run.started_at).total_seconds() >= 20  # the breaker cool-down


def test_a_model_slower_than_the_timeout_uses_up_the_runs_attempts(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    llm.script.append(Reply(OUTREACH, delay=2))
    with configured(monkeypatch, llm, REVO_LLM_TIMEOUT_S="0.3"):
        [run_id] = enqueue_leads(two_tenants[0], 1, max_attempts=1)
        assert worker.run_worker(worker_id="w", once=True) == 1
    run = runs.get_run(actor=two_tenants[0].actor(Role.ADMIN), run_id=run_id)
    assert (run.status, run.attempts) == (RunStatus.DEAD, 1)
    assert run.error and "did not answer within 0.3 s" in run.error


def test_cancelled_runs_are_not_executed_and_finished_runs_cannot_be_cancelled(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    actor = two_tenants[0].actor(Role.SDR)
    queued, done = enqueue_leads(two_tenants[0], 2)
    assert runs.cancel(actor=actor, run_id=queued).status is RunStatus.CANCELLED
    assert worker.run_worker(worker_id="w", once=True) == 1
    assert runs.get_run(actor=actor, run_id=done).status is RunStatus.SUCCEEDED
    with pytest.raises(InvalidTransition):
        runs.cancel(actor=actor, run_id=done)
    assert count(ReviewItem) == 1


def test_cancelling_a_running_run_discards_its_results(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    actor = two_tenants[0].actor(Role.SDR)
    [run_id] = enqueue_leads(two_tenants[0], 1)
    claim = run_lease.claim_next("w", lease_s=30)
    assert claim is not None and claim.run_id == run_id
    runs.cancel(actor=actor, run_id=run_id)
    assert runner.execute(claim) is RunStatus.CANCELLED
    assert runs.get_run(actor=actor, run_id=run_id).status is RunStatus.CANCELLED
    assert count(ReviewItem) == 0


def test_expired_lease_is_reclaimed_and_the_stale_worker_writes_nothing(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    [run_id] = enqueue_leads(two_tenants[0], 1)
    stale = run_lease.claim_next("stalled-worker", lease_s=0.2)
    assert stale is not None and run_lease.claim_next("other", lease_s=30) is None
    time.sleep(0.3)
    assert worker.run_worker(worker_id="healthy", once=True) == 1
    assert runner.execute(stale) is RunStatus.CANCELLED
    run = runs.get_run(actor=two_tenants[0].actor(Role.ADMIN), run_id=run_id)
    assert (run.status, run.attempts) == (RunStatus.SUCCEEDED, 2)
    assert count(ReviewItem) == 1


def test_a_run_whose_lease_expires_on_its_last_attempt_is_dead(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    [run_id] = enqueue_leads(two_tenants[0], 1, max_attempts=1)
    assert run_lease.claim_next("doomed", lease_s=0.1) is not None
    time.sleep(0.2)
    assert run_lease.claim_next("next", lease_s=30) is None
    run = runs.get_run(actor=two_tenants[0].actor(Role.ADMIN), run_id=run_id)
    assert run.status is RunStatus.DEAD and run.error and "stopped without finishing" in run.error


def test_worker_killed_mid_run_leaves_a_run_that_completes_once_after_the_lease(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers], db_url: str
) -> None:
    llm.script.append(Reply(OUTREACH, delay=30))
    [run_id] = enqueue_leads(two_tenants[0], 1)
    proc = spawn_worker(db_url, "victim", llm, REVO_WORKER_LEASE_S="1")
    deadline = time.monotonic() + 20
    while not llm.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert llm.requests, "the worker never asked the model"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    actor = two_tenants[0].actor(Role.ADMIN)
    running = runs.get_run(actor=actor, run_id=run_id)
    assert (running.status, running.lease_owner) == (RunStatus.RUNNING, "victim")
    assert worker.run_worker(worker_id="rescuer", once=True) == 0  # lease still valid
    time.sleep(1.2)
    assert worker.run_worker(worker_id="rescuer", once=True) == 1
    done = runs.get_run(actor=actor, run_id=run_id)
    assert (done.status, done.attempts) == (RunStatus.SUCCEEDED, 2)
    assert count(ReviewItem) == 1


@pytest.fixture
def pg_tenant(postgres_url: str) -> Iterator[TenantWithUsers]:
    db.configure(postgres_url)
    try:
        yield create_tenant_with_users(slug="north", name="North Ltd", email_domain="north.test")
    finally:
        clear_tables(postgres_url)


@pytest.mark.postgres
def test_two_worker_processes_on_postgresql_never_run_the_same_run(
    llm: ScriptedLLM, pg_tenant: TenantWithUsers, postgres_url: str
) -> None:
    both_busy = threading.Barrier(2, timeout=60, action=lambda: met.set())
    met = threading.Event()

    def answer(_request: dict[str, object]) -> str:
        # The first two requests meet here, so both workers are provably mid-run at once.
        if not met.is_set():
            with contextlib.suppress(threading.BrokenBarrierError):
                both_busy.wait()
        time.sleep(0.02)
        return OUTREACH

    llm.answers["OutreachDraft"] = answer
    run_ids = enqueue_leads(pg_tenant, 30)
    procs = [spawn_worker(postgres_url, f"w{i}", llm) for i in (1, 2)]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read() if p.stderr else ""
    with db.session_factory()() as session:
        claims = session.scalars(select(AuditEntry).where(AuditEntry.action == "run.claimed")).all()
        statuses = set(session.scalars(select(AgentRun.status)).all())
        attempts = set(session.scalars(select(AgentRun.attempts)).all())
        per_run = session.scalars(select(ReviewItem.run_id)).all()
    assert statuses == {RunStatus.SUCCEEDED} and attempts == {1}
    assert sorted(per_run) == sorted(run_ids) and len(llm.requests) == 30
    assert sorted(c.entity_id for c in claims) == sorted(run_ids)
    assert {c.after["worker"] for c in claims if c.after} == {"w1", "w2"}


def test_cli_enqueues_idempotently_and_lists_runs(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers], db_url: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("REVO_DATABASE_URL", db_url)
    with configured(monkeypatch, llm):
        lead_id = agent_data.lead(two_tenants[0].tenant.id)
        sdr = two_tenants[0].users[Role.SDR]
        args = ["run", "sdr", "--subject", str(lead_id), "--tenant", "north", "--key", "cli-1"]
        assert revo(args) == 2  # without --as it refuses: a run always has a named triggerer
        assert "'--as'" in capsys.readouterr().err
        args += ["--as", sdr.email.upper()]
        assert revo(args) == 0 and revo(args) == 0
        first, second = capsys.readouterr().out.strip().splitlines()
        assert first == second and first.endswith(": queued")
        assert revo(["worker", "--once"]) == 0
        assert revo(["runs", "--tenant", "north"]) == 0
        listing = capsys.readouterr().out
        assert "sdr" in listing and "succeeded" in listing and f"lead #{lead_id}" in listing
        missing = ["run", "sdr", "--subject", "999999", "--tenant", "north", "--as", sdr.email]
        assert revo(missing) == 1
        assert "no lead #999999" in capsys.readouterr().err
        finance = two_tenants[0].users[Role.FINANCE].email
        assert revo([*args[:-2], "--key", "cli-2", "--as", finance]) == 1  # not their agent
        assert "may not run the sdr agent" in capsys.readouterr().err
        stranger = two_tenants[1].users[Role.SDR].email
        assert revo([*args[:-2], "--key", "cli-3", "--as", stranger]) == 1  # another tenant's
        assert "no active user" in capsys.readouterr().err
        with db.session_factory()() as session:
            triggered = set(session.scalars(select(AgentRun.triggered_by_id)).all())
        assert triggered == {sdr.id}
