"""The console's embedded worker thread: started once, executes queued runs, stops cleanly."""

from __future__ import annotations

import json
import time

import pytest

from domain.enums import AgentName, Role, RunStatus
from services import runs, worker
from services.tenants import TenantWithUsers
from tests import agent_data
from tests.scripted_llm import ScriptedLLM, configured

OUTREACH = {
    "subject": "A faster close for Acme",
    "body": "Hello Ada, I noticed Acme is growing its platform team. Could we talk Tuesday?",
    "confidence": 0.7,
    "risk": "low",
}


def test_embedded_worker_starts_once_and_executes_queued_runs(
    two_tenants: tuple[TenantWithUsers, TenantWithUsers], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = ScriptedLLM(answers={"OutreachDraft": json.dumps(OUTREACH)})
    worker.start_embedded_worker.cache_clear()
    with configured(monkeypatch, server, REVO_EMBEDDED_WORKER="true", REVO_WORKER_POLL_S="0.05"):
        embedded = worker.start_embedded_worker()
        try:
            assert embedded is not None and worker.start_embedded_worker() is embedded
            actor = two_tenants[0].actor(Role.SDR)
            lead_id = agent_data.lead(two_tenants[0].tenant.id)
            run = runs.enqueue(actor=actor, agent=AgentName.SDR, subject_id=lead_id)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if runs.get_run(actor=actor, run_id=run.id).status is RunStatus.SUCCEEDED:
                    break
                time.sleep(0.05)
            assert runs.get_run(actor=actor, run_id=run.id).status is RunStatus.SUCCEEDED
        finally:
            if embedded:
                embedded.stop.set()
                embedded.thread.join(timeout=10)
            worker.start_embedded_worker.cache_clear()
            server.close()
    assert embedded and not embedded.thread.is_alive()


def test_embedded_worker_is_off_when_the_setting_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    worker.start_embedded_worker.cache_clear()
    with configured(monkeypatch, None, REVO_EMBEDDED_WORKER="false"):
        assert worker.start_embedded_worker() is None
    worker.start_embedded_worker.cache_clear()
