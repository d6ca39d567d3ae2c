"""The parse pipeline on its own: strict, repaired, unwrapped, or a list of errors."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import BaseModel, Field

from services.llm.parsing import parse
from services.llm.shaping import raw_text


class Out(BaseModel):
    name: str = Field(min_length=2)
    score: int = Field(ge=0, le=10)


def test_clean_json_needs_no_repair() -> None:
    parsed = parse('{"name": "Ada", "score": 3}', Out)
    assert parsed.value == Out(name="Ada", score=3) and not parsed.repaired


def test_json_string_holding_json_is_decoded_twice() -> None:
    parsed = parse(json.dumps(json.dumps({"name": "Ada", "score": 3})), Out)
    assert parsed.value == Out(name="Ada", score=3) and parsed.repaired


def test_out_of_range_value_is_a_validation_error_with_its_field() -> None:
    parsed = parse('{"name": "Ada", "score": 1000}', Out)
    assert parsed.value is None and [e["loc"] for e in parsed.errors] == ["score"]


def test_empty_answer_and_non_object_answer_are_errors() -> None:
    assert parse("", Out).errors[0]["type"] == "empty"
    assert parse("[1, 2]", Out).errors[0]["msg"] == "expected a JSON object, got list"


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"name": ' + "[" * 100_000 + "]" * 100_000 + ', "score": 1}',
        json.dumps("[" * 100_000 + "]" * 100_000),  # double-escaped
    ],
    ids=["deep-array", "deep-field", "deep-double-escaped"],
)
def test_json_nested_too_deeply_is_an_error_not_a_crash(raw: str) -> None:
    parsed = parse(raw, Out)
    assert parsed.value is None and parsed.errors


@pytest.mark.parametrize(
    "body",
    [
        {"choices": [{"message": "hello"}]},
        {"choices": [{"message": {"tool_calls": "nope", "content": 3}}]},
        {"choices": [{"message": {"tool_calls": ["x", {"function": "f"}]}}]},
        {"choices": "all of them"},
    ],
)
def test_odd_completion_shapes_have_no_raw_text(body: dict[str, object]) -> None:
    assert raw_text(body) is None


def test_tool_arguments_sent_as_an_object_are_read_as_json() -> None:
    body = {"choices": [{"message": {"tool_calls": [{"function": {"arguments": {"a": 1}}}]}}]}
    assert raw_text(body) == '{"a": 1}'


@pytest.mark.parametrize(
    "raw",
    ['{"name": "' + "x" * 1_000_000, "Sure: " + "{" * 5_000, '{"name": [' + "1," * 200_000],
    ids=["megabyte-unterminated-string", "deep-braces-after-prose", "long-unterminated-array"],
)
def test_text_too_long_or_deep_for_the_repairer_is_refused_in_well_under_a_second(
    raw: str,
) -> None:
    started = time.perf_counter()
    parsed = parse(raw, Out)
    assert time.perf_counter() - started < 1.0
    assert parsed.value is None and "not valid JSON and it is" in parsed.error_text


def test_a_truncated_answer_of_ordinary_size_is_still_repaired() -> None:
    parsed = parse('{"name": "' + "Ada " * 2000 + '", "score": 3', Out)
    assert parsed.value is not None and parsed.value.score == 3 and parsed.repaired
