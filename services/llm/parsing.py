"""From a model's raw text to a validated pydantic object: strict parse, repair, validate.

Pure functions, no I/O. Local quantized models wrap JSON in prose or code fences, escape it
twice, put raw newlines inside strings or stop mid-object; each of those is repaired here, and
whatever still does not fit the response model comes back as a list of validation errors.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import json_repair
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)

# json_repair takes time quadratic in length and nesting (1 MB of unterminated string: two
# minutes of CPU, outside any HTTP deadline). Our answers are a few KB; longer or deeper text
# gets only the strict parsers (fast, in C), never the repairer.
REPAIR_MAX_CHARS = 32_000
REPAIR_MAX_DEPTH = 64


class Unrepairable(ValueError):
    """The text is too long or too deeply nested to hand to the repairer."""


def _depth(text: str) -> int:
    """The deepest bracket nesting outside JSON strings (a cheap bound, not a parse)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "}]":
            depth = max(depth - 1, 0)
    return deepest


def _repair(text: str) -> Any:
    if len(text) > REPAIR_MAX_CHARS:
        raise Unrepairable(f"it is too long to repair ({len(text):,} characters)")
    if _depth(text) > REPAIR_MAX_DEPTH:
        raise Unrepairable(f"it is nested more than {REPAIR_MAX_DEPTH} levels deep")
    return json_repair.loads(text)


@dataclass
class Parsed(Generic[M]):
    """The outcome of parsing one raw answer: a value or the errors, and whether repair ran."""

    value: M | None
    repaired: bool
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def error_text(self) -> str:
        return "; ".join(f"{e.get('loc') or '(answer)'}: {e.get('msg')}" for e in self.errors)


def _strict(raw: str) -> Any:
    return json.loads(raw)


def _lenient(raw: str) -> Any:
    """Best effort: fenced block, control characters, then json_repair on the whole text."""
    fenced = _FENCE.search(raw)
    candidate = fenced.group(1).strip() if fenced else raw.strip()
    try:
        return json.loads(candidate, strict=False)
    except ValueError:
        pass
    start = min((i for i in (candidate.find("{"), candidate.find("[")) if i >= 0), default=-1)
    if start > 0:
        candidate = candidate[start:]
    return _repair(candidate)


def _unwrap_string(data: Any) -> tuple[Any, bool]:
    """A JSON document that decoded to a string holding JSON (double-escaped) is decoded again."""
    unwrapped = False
    for _ in range(2):
        if not isinstance(data, str):
            break
        text = data.strip()
        if not text.startswith(("{", "[")):
            break
        try:
            data = json.loads(text, strict=False)
        except ValueError:
            try:
                data = _repair(text)
            except Exception:  # leave it a string: "expected a JSON object" says the rest
                break
        unwrapped = True
    return data, unwrapped


def _error_list(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": ".".join(str(p) for p in e["loc"]),
            "msg": e["msg"],
            "type": e["type"],
        }
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def parse(raw: str | None, model: type[M]) -> Parsed[M]:
    """Parse one raw answer into ``model``; never raises."""
    try:
        return _parse(raw, model)
    except RecursionError:  # JSON nested deeper than the decoders (or pydantic) can follow
        msg = "the answer is nested too deeply to be read"
        return Parsed(None, True, [{"loc": "", "msg": msg, "type": "json"}])


def _parse(raw: str | None, model: type[M]) -> Parsed[M]:
    if raw is None or not raw.strip():
        return Parsed(None, False, [{"loc": "", "msg": "the answer was empty", "type": "empty"}])
    repaired = False
    try:
        data = _strict(raw)
    except ValueError:
        repaired = True
        try:
            data = _lenient(raw)
        except Unrepairable as exc:
            msg = f"the answer is not valid JSON and {exc}"
            return Parsed(None, True, [{"loc": "", "msg": msg, "type": "json"}])
        except Exception as exc:  # json_repair gives up in many shapes; all mean "not JSON"
            msg = f"the answer is not JSON ({exc.__class__.__name__})"
            return Parsed(None, True, [{"loc": "", "msg": msg, "type": "json"}])
    data, unwrapped = _unwrap_string(data)
    repaired = repaired or unwrapped
    if not isinstance(data, dict):
        kind = type(data).__name__
        msg = f"expected a JSON object, got {kind}"
        return Parsed(None, repaired, [{"loc": "", "msg": msg, "type": "json"}])
    try:
        return Parsed(model.model_validate(data), repaired)
    except ValidationError as exc:
        return Parsed(None, repaired, _error_list(exc))
