"""The real-model tier: llama.cpp's server with SmolLM2-135M on loopback, in TOOLS mode.

The 135M model gives valid-but-wrong values and raw newlines in strings; these tests assert
on types and recorded rows, never on wording. CI installs the local-llm extra first (see
tests/__main__.py); elsewhere the tier is skipped with the reason when the stack is absent.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel, Field
from sqlalchemy import select

from cli import local_server, up
from domain.enums import AgentName, LLMMode, LLMOutcome, Role, RunStatus
from domain.models import LLMCall, ReviewItem
from services import db, prompts, review, runs, worker
from services.errors import LLMInvalidOutput
from services.llm import models
from services.llm.client import LLMClient, LLMConfig
from services.llm.recording import CallContext
from services.tenants import TenantWithUsers, create_tenant_with_users
from tests import agent_data
from tests.scripted_llm import configured
from tests.support.databases import clear_tables

ABSENT = local_server.missing()
pytestmark = pytest.mark.skipif(ABSENT is not None, reason=f"real-model tier: {ABSENT}")


@pytest.fixture(scope="module")
def smollm() -> Iterator[local_server.LocalServer]:
    server = local_server.start()
    yield server
    server.stop()


class Lead(BaseModel):
    company: str = Field(min_length=1, max_length=100)
    score: int = Field(ge=0, le=100)


def test_a_real_model_answer_ends_typed_with_its_call_row(
    smollm: local_server.LocalServer, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    client = LLMClient(
        LLMConfig(base_url=smollm.url, model=smollm.model, mode=LLMMode.TOOLS, timeout_s=60)
    )
    ctx = CallContext(
        tenant_id=two_tenants[0].tenant.id, prompt_key="probe", prompt_version=1, prompt_hash="p"
    )
    messages = [
        {"role": "system", "content": "Extract the lead."},
        {"role": "user", "content": "Acme Corp looks like a 70 out of 100 fit."},
    ]
    try:
        result = client.complete(Lead, messages, ctx=ctx, params={"max_tokens": 120})
        assert isinstance(result.value, Lead)
    except LLMInvalidOutput:
        pass
    with db.session_factory()() as session:
        [row] = session.scalars(select(LLMCall)).all()
    assert row.mode is LLMMode.TOOLS and row.completion_tokens > 0
    assert row.outcome in {LLMOutcome.OK, LLMOutcome.REPAIRED, LLMOutcome.INVALID}


def test_the_console_finds_the_local_server_and_its_model_without_an_ollama_api(
    smollm: local_server.LocalServer,
    two_tenants: tuple[TenantWithUsers, TenantWithUsers],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with configured(monkeypatch, None, REVO_LLM_BASE_URL=smollm.url, REVO_LLM_MODEL=smollm.model):
        status = models.model_status(actor=two_tenants[0].actor(Role.VIEWER))
    assert (status.reachable, status.present, status.problem) == (True, True, None)


@pytest.fixture
def sqlite_tenant(sqlite_url: str) -> Iterator[TenantWithUsers]:
    """SQLite only: this test is about the model; the engines are covered everywhere else."""
    db.configure(sqlite_url)
    try:
        yield create_tenant_with_users(slug="north", name="North Ltd", email_domain="north.test")
    finally:
        clear_tables(sqlite_url)


def test_one_run_per_agent_on_the_real_model_leaves_items_or_typed_failures_with_call_rows(
    smollm: local_server.LocalServer,
    sqlite_tenant: TenantWithUsers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    north = sqlite_tenant
    tid = north.tenant.id
    inv_id, _ = agent_data.investigation_with_events(tid)
    subjects = {
        AgentName.SDR: agent_data.lead(tid),
        AgentName.SALES: agent_data.deal(tid),
        AgentName.NEGOTIATION: agent_data.deal(tid, rounds=2),
        AgentName.FINANCE: agent_data.overdue_invoice(tid),
        AgentName.INVESTIGATOR: inv_id,
    }
    # Two re-asks, as in production: the re-ask path runs against the real model too.
    env = {"REVO_LLM_MODEL": smollm.model, "REVO_LLM_MODE": "tools", "REVO_LLM_TIMEOUT_S": "90",
           "REVO_LLM_BASE_URL": smollm.url, "REVO_LLM_MAX_REASKS": "2"}  # fmt: skip
    actor = north.actor(Role.ADMIN)
    for p in prompts.list_prompts(actor=actor):  # short answers keep the tier fast: a new version
        short = prompts.create_version(
            actor=actor,
            key=p.key,
            template=p.template,
            parameters={**p.parameters, "max_tokens": 120},
        )
        prompts.activate(actor=actor, prompt_id=short.id)
    with configured(monkeypatch, None, **env):
        ids = {
            agent: runs.enqueue(actor=actor, agent=agent, subject_id=sid, max_attempts=1).id
            for agent, sid in subjects.items()
        }
        worker.run_worker(worker_id="real", once=True)
    queued = {row.id for row in review.list_queue(actor=actor, limit=50).items}
    drafted: list[int] = []
    with db.session_factory()() as session:
        for agent, run_id in ids.items():
            run = runs.get_run(actor=actor, run_id=run_id)
            calls = session.scalars(select(LLMCall).where(LLMCall.run_id == run_id)).all()
            items = session.scalars(select(ReviewItem).where(ReviewItem.run_id == run_id)).all()
            assert calls, f"{agent}: no LLM call row"
            assert all(c.prompt_version == 2 and c.completion_tokens > 0 for c in calls), agent
            if run.status is RunStatus.SUCCEEDED:
                assert items and all(0 <= i.confidence <= 1 for i in items), agent
                assert {i.id for i in items} <= queued, f"{agent}: items not in the queue"
                json.dumps([i.payload for i in items])
                drafted.append(run_id)
            else:  # the 135M model often cannot fill the stricter forms: a typed failure
                assert run.status is RunStatus.DEAD and run.error and not items, agent
                assert any(c.outcome is LLMOutcome.INVALID for c in calls), agent
    # Measured here: the sdr draft passes (after a JSON repair) every time, the investigator's
    # most times; the other forms defeat this model. At least one draft must reach the queue.
    assert drafted, "no agent's run produced a review item on the real model"


def test_revo_up_with_the_local_model_hands_the_console_a_live_server_and_stops_it(
    tmp_path: Path,
) -> None:
    seen = tmp_path / "url"
    probe = (
        "import os, sys, httpx; url = os.environ['REVO_LLM_BASE_URL']; "
        f"open({str(seen)!r}, 'w').write(url); "
        "up = httpx.get(url + '/models').status_code == 200; "
        "ok = up and os.environ['REVO_LLM_MODE'] == 'tools'; "
        "sys.exit(0 if ok else 3)"
    )
    assert up._up_with_local_model([sys.executable, "-c", probe], dict(os.environ)) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(seen.read_text() + "/models", timeout=2)
