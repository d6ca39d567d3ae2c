"""Load time per call: before a call to Ollama the client loads a model that is not loaded
(/api/ps, then an empty /api/generate) and records the load on the call's row; the Models
page's figures come from those rows. Against a loopback fake Ollama, on both engines."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from domain.enums import LLMOutcome, Role, RunStatus
from domain.models import LLMCall
from services import db, migrate, runs, worker
from services.config import get_settings
from services.errors import LLMUnavailable
from services.llm import model_admin
from services.llm.client import LLMClient, LLMConfig
from services.llm.recording import CallContext
from services.tenants import TenantWithUsers
from tests.scripted_llm import Reply, ScriptedLLM, Trickle, configured
from tests.support.llm_calls import MESSAGES, VALID, Greeting
from tests.support.model_loads import seed_loads
from tests.support.runs import OUTREACH, enqueue_leads

Pair = tuple[TenantWithUsers, TenantWithUsers]
LOAD = "/api/generate"


@pytest.fixture
def ollama(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedLLM]:
    """A fake Ollama with nothing loaded, the console pointed at it."""
    server = ScriptedLLM(answers={"OutreachDraft": OUTREACH, "Greeting": VALID}, loaded=[])
    with configured(monkeypatch, server, REVO_LLM_TIMEOUT_S="1.5"):
        yield server
    server.close()


@pytest.fixture
def ctx(two_tenants: Pair) -> CallContext:
    return CallContext(
        tenant_id=two_tenants[0].tenant.id, prompt_key="greet", prompt_version=1, prompt_hash="h"
    )


def _client(llm: ScriptedLLM) -> LLMClient:
    return LLMClient(LLMConfig(base_url=llm.url, model="llama3.2", timeout_s=1.5))


def _rows() -> list[LLMCall]:
    with db.session_factory()() as session:
        return list(session.scalars(select(LLMCall).order_by(LLMCall.id)))


def _loads(llm: ScriptedLLM) -> list[dict[str, Any]]:
    return [body for path, body in llm.native_requests if path == LOAD]


def test_an_agent_run_that_finds_its_model_unloaded_loads_it_and_records_the_load_time(
    ollama: ScriptedLLM, two_tenants: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    ollama.load_ns = 1_234_567_890  # a server that reports load_duration (ns) is believed
    monkeypatch.setenv("REVO_LLM_KEEP_ALIVE", "10m")
    get_settings.cache_clear()
    [run_id] = enqueue_leads(two_tenants[0], 1)
    assert worker.run_worker(worker_id="w", once=True) == 1
    run = runs.get_run(actor=two_tenants[0].actor(Role.ADMIN), run_id=run_id)
    assert run.status is RunStatus.SUCCEEDED, run.error
    [row] = _rows()
    assert (row.outcome, row.load_ms, row.run_id) == (LLMOutcome.OK, 1234, run_id)
    assert _loads(ollama) == [
        {"model": "llama3.2", "prompt": "", "keep_alive": "10m", "stream": False}
    ]
    assert len(ollama.requests) == 1  # the call itself still went to /v1, once


def test_ollamas_own_load_answer_has_no_load_duration_so_the_load_is_timed(
    ollama: ScriptedLLM, ctx: CallContext
) -> None:
    answer = json.dumps({"model": "llama3.2", "response": "", "done": True, "done_reason": "load"})
    ollama.native_replies[LOAD] = Reply(body=answer, delay=0.3)
    assert _client(ollama).complete(Greeting, MESSAGES, ctx=ctx).outcome is LLMOutcome.OK
    [row] = _rows()
    assert row.load_ms is not None and 300 <= row.load_ms < 1500, row.load_ms


def test_a_loaded_model_is_not_loaded_again_and_ps_is_asked_once_for_many_calls(
    ollama: ScriptedLLM, ctx: CallContext
) -> None:
    ollama.loaded = ["llama3.2:latest"]  # the configured "llama3.2" is its :latest tag
    client = _client(ollama)
    for _ in range(3):
        assert client.complete(Greeting, MESSAGES, ctx=ctx).outcome is LLMOutcome.OK
    assert _loads(ollama) == [] and [r.load_ms for r in _rows()] == [None, None, None]
    assert [p for p, _ in ollama.native_requests] == ["/api/version", "/api/ps"]  # cached


def test_a_model_loaded_by_one_call_is_not_loaded_again_by_the_next(
    ollama: ScriptedLLM, ctx: CallContext
) -> None:
    ollama.load_ns = 5_000_000
    client = _client(ollama)
    client.complete(Greeting, MESSAGES, ctx=ctx)
    client.complete(Greeting, MESSAGES, ctx=ctx)
    assert len(_loads(ollama)) == 1 and [r.load_ms for r in _rows()] == [5, None]


def test_calls_at_the_same_moment_load_the_model_once(
    ollama: ScriptedLLM, ctx: CallContext
) -> None:
    answer = {"done": True, "done_reason": "load", "load_duration": 400_000_000}
    ollama.native_replies[LOAD] = Reply(body=json.dumps(answer), delay=0.4)
    client = _client(ollama)
    threads = [
        threading.Thread(target=client.complete, args=(Greeting, MESSAGES), kwargs={"ctx": ctx})
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(_loads(ollama)) == 1
    assert sorted((r.load_ms for r in _rows()), key=str) == [400, None, None]


FAILED_LOADS = {
    "http-500": Reply(status=500),
    "not-json": Reply(body="<html>loading…</html>"),
    "negative": Reply(body='{"done": true, "done_reason": "load", "load_duration": -5}'),
    "a-string": Reply(body='{"done": true, "done_reason": "load", "load_duration": "lots"}'),
    "huge": Reply(body='{"done": true, "done_reason": "load", "load_duration": 1e30}'),
    "boolean": Reply(body='{"done": true, "done_reason": "load", "load_duration": true}'),
    "nan": Reply(body='{"done": true, "done_reason": "load", "load_duration": NaN}'),
    "unloaded-instead": Reply(body='{"done": true, "done_reason": "unload"}'),
    "not-done": Reply(body='{"done": false}'),
    "a-list": Reply(body="[1, 2, 3]"),
    "endless-trickle": Reply(body="{}", trickle=Trickle(every_s=0.1, endless=True)),
    "silent": Reply(body="{}", delay=5),
}


@pytest.mark.parametrize("load", list(FAILED_LOADS.values()), ids=list(FAILED_LOADS))
def test_a_failing_or_hostile_load_never_fails_the_call_and_records_no_load(
    ollama: ScriptedLLM, ctx: CallContext, load: Reply
) -> None:
    ollama.native_replies[LOAD] = load
    started = time.monotonic()
    result = _client(ollama).complete(Greeting, MESSAGES, ctx=ctx)
    assert result.outcome is LLMOutcome.OK and result.value.subject == "Hello there"
    assert time.monotonic() - started < 4.0  # the load step is bounded by the call's timeout
    [row] = _rows()
    assert (row.outcome, row.load_ms) == (LLMOutcome.OK, None)
    assert len(_loads(ollama)) == 1


FAILED_PS = {
    "http-500": Reply(status=500),
    "not-json": Reply(body="nope"),
    "models-not-a-list": Reply(body='{"models": "all of them"}'),
    "silent": Reply(body="{}", delay=5),
}


@pytest.mark.parametrize("ps", list(FAILED_PS.values()), ids=list(FAILED_PS))
def test_when_ps_fails_the_call_goes_on_without_loading(
    ollama: ScriptedLLM, ctx: CallContext, ps: Reply
) -> None:
    ollama.native_replies["/api/ps"] = ps
    assert _client(ollama).complete(Greeting, MESSAGES, ctx=ctx).outcome is LLMOutcome.OK
    assert _loads(ollama) == [] and _rows()[0].load_ms is None


def test_an_openai_only_server_gets_no_load_step(ollama: ScriptedLLM, ctx: CallContext) -> None:
    ollama.native_api = False  # as llama.cpp's server: /api/* is 404
    client = _client(ollama)
    client.complete(Greeting, MESSAGES, ctx=ctx)
    client.complete(Greeting, MESSAGES, ctx=ctx)
    assert ollama.native_requests == [("/api/version", {})]  # asked once, then remembered
    assert [r.load_ms for r in _rows()] == [None, None]
    assert all("messages" in r for r in ollama.requests) and len(ollama.requests) == 2


def test_while_the_breaker_is_open_there_is_no_load_step(
    ollama: ScriptedLLM, ctx: CallContext
) -> None:
    ollama.script.append(Reply(status=503))
    client = LLMClient(LLMConfig(base_url=ollama.url, model="llama3.2", breaker_failures=1,
                                 transport_attempts=1, timeout_s=1.5))  # fmt: skip
    with pytest.raises(LLMUnavailable):
        client.complete(Greeting, MESSAGES, ctx=ctx)  # loads the model, then the call fails
    assert client.breaker.is_open
    asked = len(ollama.native_requests)
    with pytest.raises(LLMUnavailable):
        client.complete(Greeting, MESSAGES, ctx=ctx)
    assert len(ollama.native_requests) == asked  # failing fast: not even /api/ps


NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_model_usage_gives_median_and_last_load_over_the_window(two_tenants: Pair) -> None:
    north, south = two_tenants
    seed_loads(north, south, NOW)
    usage = {u.model: u for u in model_admin.model_usage(actor=north.actor(Role.ADMIN), now=NOW)}
    llama = usage["llama3.2"]
    assert (llama.calls, llama.loads, llama.median_load_ms, llama.last_load_ms) == (5, 4, 750, 600)
    qwen = usage["qwen2.5"]
    assert (qwen.calls, qwen.loads, qwen.median_load_ms, qwen.last_load_ms) == (1, 0, None, None)


def test_the_migration_adds_load_ms_and_takes_it_away_keeping_the_calls(
    empty_url: str,
) -> None:
    url = empty_url
    migrate.upgrade(url, "r11audit")
    with db.get_engine(url).begin() as conn:
        conn.execute(text("INSERT INTO tenants (id, slug, name, settings, created_at) "
                          "VALUES (1, 'acme', 'Acme', '{}', CURRENT_TIMESTAMP)"))  # fmt: skip
        conn.execute(text(
            "INSERT INTO llm_calls (id, tenant_id, prompt_key, prompt_version, prompt_hash, model,"
            " mode, latency_ms, prompt_tokens, completion_tokens, attempts, reasks, repaired,"
            " outcome, created_at) VALUES (1, 1, 'k', 1, 'h', 'llama3.2', 'json_schema', 5, 0, 0,"
            " 1, 0, FALSE, 'ok', CURRENT_TIMESTAMP)"
        ))  # fmt: skip
    migrate.upgrade(url, "r12loadms")
    with db.get_engine(url).begin() as conn:
        assert conn.execute(text("SELECT load_ms FROM llm_calls")).scalar_one() is None
        conn.execute(text("UPDATE llm_calls SET load_ms = 1234"))
    migrate.downgrade(url, "r11audit")
    with db.get_engine(url).connect() as conn:
        columns = conn.execute(text("SELECT * FROM llm_calls")).mappings().one()
    assert "load_ms" not in columns and columns["model"] == "llama3.2"
    migrate.upgrade(url)
    db.get_engine(url).dispose()
