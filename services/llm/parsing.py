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
    return json_repair.loads(candidate)


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
            data = json_repair.loads(text)
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
