"""The LLM client against a scripted model server on loopback, recording on both engines."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, Field
from sqlalchemy import select

from domain.enums import LLMMode, LLMOutcome
from domain.models import LLMCall
from services import db
from services.errors import LLMError, LLMInvalidOutput, LLMTimeout, LLMUnavailable
from services.llm.client import LLMClient, LLMConfig, LLMResult
from services.llm.recording import CallContext
from services.tenants import TenantWithUsers
from tests.scripted_llm import Reply, ScriptedLLM, refused_url
from tests.support.llm_calls import MESSAGES, VALID, Greeting, only_row


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    server = ScriptedLLM()
    yield server
    server.close()


@pytest.fixture
def ctx(two_tenants: tuple[TenantWithUsers, TenantWithUsers]) -> CallContext:
    return CallContext(
        tenant_id=two_tenants[0].tenant.id, prompt_key="greet", prompt_version=3, prompt_hash="h"
    )


def client(url: str, mode: LLMMode = LLMMode.JSON_SCHEMA, **overrides: float) -> LLMClient:
    settings: dict[str, float] = {
        "timeout_s": 2.0,
        "max_reasks": 2,
        "transport_attempts": 2,
        "backoff_s": 0.01,
        "backoff_max_s": 0.02,
        "breaker_failures": 5,
        **overrides,
    }
    return LLMClient(LLMConfig(base_url=url, model="llama3.2", mode=mode, **settings))  # type: ignore[arg-type]


def ask(url: str, ctx: CallContext, **kw: float) -> LLMResult[Greeting]:
    return client(url, **kw).complete(Greeting, MESSAGES, ctx=ctx)


@pytest.mark.parametrize("mode", list(LLMMode))
def test_valid_json_comes_back_typed_and_is_recorded_ok_in_every_mode(
    llm: ScriptedLLM, ctx: CallContext, mode: LLMMode
) -> None:
    llm.script.append(Reply(VALID, usage=(40, 9)))
    result = client(llm.url, mode).complete(Greeting, MESSAGES, ctx=ctx)
    assert result.value == Greeting(subject="Hello there", confidence=0.8, tone="casual")
    assert result.outcome is LLMOutcome.OK
    row = only_row()
    assert (row.outcome, row.mode, row.attempts, row.reasks, row.repaired) == (
        LLMOutcome.OK, mode, 1, 0, False,
    )  # fmt: skip
    assert (row.prompt_key, row.prompt_version, row.model) == ("greet", 3, "llama3.2")
    assert (row.prompt_tokens, row.completion_tokens) == (40, 9)
    assert row.raw_output is None and row.run_id is None and row.id == result.call_id
    sent = llm.requests[0]
    if mode is LLMMode.JSON_SCHEMA:
        assert sent["response_format"]["type"] == "json_schema"
    elif mode is LLMMode.TOOLS:
        assert sent["tool_choice"]["function"]["name"] == "Greeting"
    else:
        assert sent["response_format"] == {"type": "json_object"}
        assert '"confidence"' in sent["messages"][0]["content"]


@pytest.mark.parametrize(
    "raw",
    [
        f"Sure! Here is the greeting:\n```json\n{VALID}\n```\nAnything else?",
        f"Here you go: {VALID} -- hope that helps",
        json.dumps(VALID),
        '{"subject": "Hello\nthere\tfriend", "confidence": 0.8}',
        '{"subject": "Hello there", "confidence": 0.8, "tone": "casual"',
    ],
    ids=["code-fence", "prose", "double-escaped", "control-chars", "truncated-tail"],
)
def test_malformed_but_recoverable_json_is_repaired_and_recorded_as_repaired(
    llm: ScriptedLLM, ctx: CallContext, raw: str
) -> None:
    llm.script.append(Reply(raw))
    result = ask(llm.url, ctx)
    assert result.value.confidence == 0.8
    assert result.value.subject.startswith("Hello")
    row = only_row()
    assert (row.outcome, row.repaired, row.reasks) == (LLMOutcome.REPAIRED, True, 0)
    assert row.raw_output is None or raw in row.raw_output


def test_truncated_output_is_reasked_with_the_errors_and_then_succeeds(
    llm: ScriptedLLM, ctx: CallContext
) -> None:
    llm.script += [Reply('{"subject": "Hel'), Reply(VALID)]
    result = ask(llm.url, ctx)
    assert result.value.subject == "Hello there" and result.reasks == 1
    reask = llm.requests[1]["messages"]
    assert reask[-2]["role"] == "assistant" and "confidence" in reask[-1]["content"]
    row = only_row()
    assert (row.reasks, row.attempts, row.outcome) == (1, 2, LLMOutcome.REPAIRED)
    assert row.validation_errors and row.validation_errors[0]["loc"] == "confidence"
    assert row.raw_output == '{"subject": "Hel'


def test_schema_violating_values_end_in_invalid_output_after_bounded_reasks(
    llm: ScriptedLLM, ctx: CallContext
) -> None:
    bad = '{"subject": "Hi there", "confidence": 1000, "tone": "shouty"}'
    llm.script += [Reply(bad)] * 3
    with pytest.raises(LLMInvalidOutput, match="confidence"):
        ask(llm.url, ctx)
    assert len(llm.requests) == 3
    row = only_row()
    assert (row.outcome, row.reasks, row.attempts) == (LLMOutcome.INVALID, 2, 3)
    locs = {e["loc"] for e in row.validation_errors or []}
    assert locs == {"confidence", "tone"}
    assert row.raw_output and bad in row.raw_output


def test_an_answer_that_is_not_json_at_all_is_invalid(llm: ScriptedLLM, ctx: CallContext) -> None:
    llm.script += [Reply("I cannot help with that.")] * 3
    with pytest.raises(LLMInvalidOutput):
        ask(llm.url, ctx, max_reasks=0)
    assert only_row().outcome is LLMOutcome.INVALID and len(llm.requests) == 1


def test_http_503_is_retried_and_then_succeeds(llm: ScriptedLLM, ctx: CallContext) -> None:
    llm.script += [Reply(status=503), Reply(VALID)]
    result = ask(llm.url, ctx)
    assert result.attempts == 2
    row = only_row()
    assert (row.outcome, row.attempts) == (LLMOutcome.OK, 2)


def test_persistent_http_503_ends_in_unavailable_naming_the_url(
    llm: ScriptedLLM, ctx: CallContext
) -> None:
    llm.script += [Reply(status=503)] * 3
    with pytest.raises(LLMUnavailable, match=f"{llm.url}.*503"):
        ask(llm.url, ctx, transport_attempts=3)
    row = only_row()
    assert (row.outcome, row.attempts) == (LLMOutcome.UNAVAILABLE, 3)


def test_persistent_http_500_ends_in_a_typed_error(llm: ScriptedLLM, ctx: CallContext) -> None:
    llm.script += [Reply(status=500, body='{"error": "boom"}')] * 2
    with pytest.raises(LLMError, match="HTTP 500") as info:
        ask(llm.url, ctx)
    assert not isinstance(info.value, LLMUnavailable)
    row = only_row()
    assert (row.outcome, row.attempts) == (LLMOutcome.ERROR, 2)
    assert row.error and "boom" in row.error


def test_connection_refused_is_unavailable_with_the_url(ctx: CallContext) -> None:
    url = refused_url()
    with pytest.raises(LLMUnavailable, match=f"{url} cannot be reached"):
        ask(url, ctx)
    row = only_row()
    assert (row.outcome, row.attempts) == (LLMOutcome.UNAVAILABLE, 2)


def test_an_answer_slower_than_the_timeout_is_a_timeout(llm: ScriptedLLM, ctx: CallContext) -> None:
    llm.script += [Reply(VALID, delay=1.0)] * 2
    with pytest.raises(LLMTimeout, match=r"0\.2 s"):
        ask(llm.url, ctx, timeout_s=0.2, transport_attempts=2)
    row = only_row()
    assert (row.outcome, row.attempts) == (LLMOutcome.TIMEOUT, 2)
    assert row.latency_ms < 1500


def test_total_deadline_bounds_the_retries(llm: ScriptedLLM, ctx: CallContext) -> None:
    llm.script += [Reply(VALID, delay=1.0)] * 5
    with pytest.raises(LLMTimeout):
        ask(llm.url, ctx, timeout_s=0.3, transport_attempts=5, deadline_s=0.5)
    assert only_row().attempts <= 2


def test_open_breaker_fails_fast_without_calling_the_server(
    llm: ScriptedLLM, ctx: CallContext
) -> None:
    llm.script += [Reply(status=503)] * 2
    c = client(llm.url, breaker_failures=2, breaker_cooldown_s=60, transport_attempts=1)
    for _ in range(2):
        with pytest.raises(LLMUnavailable):
            c.complete(Greeting, MESSAGES, ctx=ctx)
    llm.script.append(Reply(VALID))
    with pytest.raises(LLMUnavailable, match="failed repeatedly"):
        c.complete(Greeting, MESSAGES, ctx=ctx)
    assert len(llm.requests) == 2
    with db.session_factory()() as session:
        last = session.scalars(select(LLMCall).order_by(LLMCall.id.desc())).first()
    assert last is not None and (last.outcome, last.attempts) == (LLMOutcome.UNAVAILABLE, 0)


def test_breaker_lets_a_trial_through_after_the_cool_down(
    llm: ScriptedLLM, ctx: CallContext
) -> None:
    llm.script += [Reply(status=503), Reply(VALID)]
    c = client(llm.url, breaker_failures=1, breaker_cooldown_s=0, transport_attempts=1)
    with pytest.raises(LLMUnavailable):
        c.complete(Greeting, MESSAGES, ctx=ctx)
    assert c.complete(Greeting, MESSAGES, ctx=ctx).outcome is LLMOutcome.OK


class Letter(BaseModel):
    body: str = Field(min_length=20, max_length=4000)
    tags: list[str] = Field(default_factory=list, max_length=50)


def test_long_bounds_are_left_to_pydantic_not_the_servers_grammar(
    llm: ScriptedLLM, ctx: CallContext
) -> None:
    llm.script += [Reply('{"body": "too short"}'), Reply('{"body": "' + "long enough " * 3 + '"}')]
    result = client(llm.url, LLMMode.TOOLS).complete(Letter, MESSAGES, ctx=ctx)
    assert result.reasks == 1
    sent = json.dumps(llm.requests[0]["tools"])
    assert '"maxLength"' not in sent and '"maxItems"' not in sent and '"minLength"' not in sent


def test_a_recording_failure_never_fails_the_call(llm: ScriptedLLM, ctx: CallContext) -> None:
    llm.script.append(Reply(VALID))
    orphan = CallContext(tenant_id=999_999, prompt_key="greet", prompt_version=1, prompt_hash="h")
    result = ask(llm.url, orphan)
    assert result.value.subject == "Hello there" and result.call_id is None
