"""The parse pipeline on its own: strict, repaired, unwrapped, or a list of errors."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from services.llm.parsing import parse


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
