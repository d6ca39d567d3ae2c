"""The LLM client and the worker against model servers that misbehave on the wire.

A server that trickles its answer never trips a per-read timeout; the call's deadline must
still bound it. A half-open breaker trial that ends in any exception must release the breaker.
A malformed ``usage`` block must not cost a valid answer.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from domain.enums import LLMOutcome, Role, RunStatus
from domain.models import LLMCall
from services import db, runs, worker
from services.errors import LLMError, LLMTimeout
from services.llm.client import LLMClient, LLMConfig
from services.llm.recording import CallContext
from services.tenants import TenantWithUsers
from tests.scripted_llm import Reply, ScriptedLLM, Trickle, configured
from tests.support.llm_calls import MESSAGES, VALID, Greeting, only_row
from tests.support.runs import OUTREACH, enqueue_leads

T = TypeVar("T")
Pair = tuple[TenantWithUsers, TenantWithUsers]


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM()
    yield server
    server.close()


@pytest.fixture
def ctx(two_tenants: Pair) -> CallContext:
    return CallContext(
        tenant_id=two_tenants[0].tenant.id, prompt_key="greet", prompt_version=1, prompt_hash="h"
    )


def client(url: str, **overrides: float) -> LLMClient:
    settings: dict[str, Any] = {
        "timeout_s": 3.0,
        "deadline_s": 10.0,
        "max_reasks": 0,
        "transport_attempts": 3,
        "backoff_s": 0.01,
        "backoff_max_s": 0.02,
        "breaker_failures": 100,
        **overrides,
    }
    return LLMClient(LLMConfig(base_url=url, model="llama3.2", **settings))


def within(seconds: float, fn: Callable[[], T]) -> tuple[T | BaseException, float]:
    """Run ``fn`` on a thread; fail the test if it has not returned after ``seconds``."""
    outcome: list[T | BaseException] = []

    def target() -> None:
        try:
            outcome.append(fn())
        except BaseException as exc:
            outcome.append(exc)

    started = time.monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    elapsed = time.monotonic() - started
    assert not thread.is_alive(), f"still running after {seconds} s"
    return outcome[0], elapsed


def wait_for(predicate: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


TRICKLES = {
    "one-byte-per-second": Trickle(every_s=1.0),
    "endless": Trickle(every_s=1.0, endless=True),
    "trickled-headers": Trickle(every_s=1.0, headers=True),
}


@pytest.mark.parametrize("trickle", list(TRICKLES.values()), ids=list(TRICKLES))
def test_a_trickling_server_is_cut_off_at_the_calls_deadline(
    llm: ScriptedLLM, ctx: CallContext, trickle: Trickle
) -> None:
    llm.script += [Reply(VALID, trickle=trickle)] * 3
    c = client(llm.url, timeout_s=2.5, deadline_s=4.0)  # every byte comes well within 2.5 s
    outcome, elapsed = within(8, lambda: c.complete(Greeting, MESSAGES, ctx=ctx))
    assert isinstance(outcome, LLMTimeout), outcome
    assert "deadline of 4 s" in outcome.message
    assert 3.5 <= elapsed <= 5.0
    row = only_row()
    assert row.outcome is LLMOutcome.TIMEOUT and row.latency_ms <= 5000
    assert wait_for(lambda: llm.hangups == len(llm.requests), 3), "the connection was left open"


def test_with_the_issues_settings_a_trickle_ends_after_ten_seconds_not_forty(
    llm: ScriptedLLM, ctx: CallContext
) -> None:
    llm.script += [Reply(VALID, trickle=Trickle(every_s=1.0, endless=True))] * 3
    c = client(llm.url, timeout_s=3.0, deadline_s=10.0)  # REVO_LLM_TIMEOUT_S=3, _DEADLINE_S=10
    outcome, elapsed = within(14, lambda: c.complete(Greeting, MESSAGES, ctx=ctx))
    assert isinstance(outcome, LLMTimeout) and elapsed <= 11.0, (outcome, elapsed)


def test_a_worker_gives_up_a_trickling_attempt_and_the_run_follows_its_retry_rules(
    two_tenants: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    endless = Trickle(every_s=1.0, endless=True)
    server = ScriptedLLM(script=[Reply(OUTREACH, trickle=endless)] * 4)
    env = {
        "REVO_LLM_TIMEOUT_S": "2.5",
        "REVO_LLM_DEADLINE_S": "3",
        "REVO_LLM_TRANSPORT_ATTEMPTS": "2",
        "REVO_WORKER_LEASE_S": "3",  # the heartbeat would keep a stuck attempt's lease forever
    }
    try:
        with configured(monkeypatch, server, **env):
            [run_id] = enqueue_leads(two_tenants[0], 1, max_attempts=2)
            done, elapsed = within(15, lambda: worker.run_worker(worker_id="w", once=True))
        assert done == 2 and elapsed <= 10.0, (done, elapsed)
        run = runs.get_run(actor=two_tenants[0].actor(Role.ADMIN), run_id=run_id)
        assert (run.status, run.attempts) == (RunStatus.DEAD, 2)
        assert run.error and "deadline of 3 s" in run.error
    finally:
        server.close()


DEEP = "[" * 100_000 + "]" * 100_000
BROKEN_TRIALS = {
    "bad-gzip-body": Reply(body=VALID, headers={"Content-Encoding": "gzip"}),
    "non-numeric-usage": Reply(VALID, usage={"prompt_tokens": "many", "completion_tokens": "x"}),
    "over-deep-json-body": Reply(body=DEEP),
    "over-deep-json-answer": Reply('{"subject": ' + DEEP + "}"),
}


@pytest.mark.parametrize("trial", list(BROKEN_TRIALS.values()), ids=list(BROKEN_TRIALS))
def test_any_outcome_of_the_half_open_trial_releases_the_breaker(
    llm: ScriptedLLM, ctx: CallContext, trial: Reply
) -> None:
    c = client(llm.url, breaker_failures=1, breaker_cooldown_s=0.5, transport_attempts=1)
    llm.script += [Reply(status=503), trial]
    with pytest.raises(LLMError):
        c.complete(Greeting, MESSAGES, ctx=ctx)
    assert c.breaker.is_open
    time.sleep(0.6)
    with contextlib.suppress(LLMError):  # the trial: a typed result or a typed error
        c.complete(Greeting, MESSAGES, ctx=ctx)
    assert len(llm.requests) == 2, "the trial reached the server"
    time.sleep(0.6)  # a failed trial opens the breaker again, for one more cool-down
    assert not c.breaker.is_open
    llm.script.append(Reply(VALID))
    result = c.complete(Greeting, MESSAGES, ctx=ctx)
    assert result.outcome is LLMOutcome.OK and len(llm.requests) == 3
    assert not c.breaker.is_open


MALFORMED_USAGE = {
    "strings": {"prompt_tokens": "many", "completion_tokens": "7"},
    "negative": {"prompt_tokens": -5, "completion_tokens": 3},
    "huge": {"prompt_tokens": 10**30, "completion_tokens": 3},
    "fraction": {"prompt_tokens": 1.5, "completion_tokens": 3},
    "boolean": {"prompt_tokens": True, "completion_tokens": 3},
    "null-count": {"prompt_tokens": None, "completion_tokens": 3},
    "not-an-object": "lots",
    "a-list": [12, 7],
}


@pytest.mark.parametrize("usage", list(MALFORMED_USAGE.values()), ids=list(MALFORMED_USAGE))
def test_a_valid_answer_with_malformed_usage_is_kept_with_its_tokens_unknown(
    llm: ScriptedLLM, ctx: CallContext, usage: Any
) -> None:
    llm.script.append(Reply(VALID, usage=usage))
    result = client(llm.url).complete(Greeting, MESSAGES, ctx=ctx)
    assert result.value.subject == "Hello there" and result.outcome is LLMOutcome.OK
    row = only_row()
    assert (row.outcome, row.prompt_tokens, row.completion_tokens) == (LLMOutcome.OK, 0, 0)
    assert [e["type"] for e in row.validation_errors or []] == ["usage_unknown"]
    assert len(llm.requests) == 1


def test_well_formed_usage_is_still_counted_across_reasks(
    llm: ScriptedLLM, ctx: CallContext
) -> None:
    llm.script += [Reply('{"subject": "Hel', usage=(30, 4)), Reply(VALID, usage=(50, 9))]
    client(llm.url, max_reasks=1).complete(Greeting, MESSAGES, ctx=ctx)
    row = only_row()
    assert (row.prompt_tokens, row.completion_tokens) == (80, 13)
    assert "usage" not in json.dumps(row.validation_errors)
    with db.session_factory()() as session:
        assert session.scalars(select(LLMCall.reasks)).one() == 1
