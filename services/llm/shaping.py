"""How a request looks in each instructor mode, and how an answer's raw text is found.

Instructor shapes the request (JSON schema response format, a forced tool call, or JSON mode
with the schema in the system message) and words the re-ask; both are computed once per
response model and mode, because building schemas costs more than the rest of a call.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from instructor import Mode
from instructor.processing import handle_reask_kwargs, handle_response_model
from openai.types.chat import ChatCompletion
from pydantic import BaseModel

from domain.enums import LLMMode

INSTRUCTOR_MODES = {
    LLMMode.JSON_SCHEMA: Mode.JSON_SCHEMA,
    LLMMode.TOOLS: Mode.TOOLS,
    LLMMode.JSON: Mode.JSON,
}
_SENTINEL = "\x00revo-system\x00"


@lru_cache(maxsize=256)
def request_shape(response_model: type[BaseModel], mode: Mode) -> tuple[dict[str, Any], str]:
    """Instructor's request fields for a model and mode, and the text it adds to the system
    message."""
    messages = [{"role": "system", "content": _SENTINEL}]
    _, kwargs = handle_response_model(response_model, mode=mode, messages=messages, model="-")
    shaped = kwargs.pop("messages")
    kwargs.pop("model", None)
    system = next((m["content"] for m in shaped if m.get("role") == "system"), _SENTINEL)
    suffix = system.split(_SENTINEL, 1)[1] if _SENTINEL in system else ""
    return _relaxed(kwargs), suffix


# Servers turn the schema into a grammar; long length bounds unroll into thousands of rules
# (llama.cpp's server dies on maxLength 4000). Such bounds are checked by pydantic instead.
_LIMITS = {"maxLength": 64, "minLength": 16, "maxItems": 10, "minItems": 4}


def _relaxed(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: _relaxed(v)
            for k, v in node.items()
            if not (k in _LIMITS and isinstance(v, int) and v > _LIMITS[k])
        }
    if isinstance(node, list):
        return [_relaxed(v) for v in node]
    return node


def with_suffix(messages: list[dict[str, Any]], suffix: str) -> list[dict[str, Any]]:
    if not suffix:
        return list(messages)
    out = [dict(m) for m in messages]
    for m in out:
        if m.get("role") == "system":
            m["content"] = f"{m['content']}{suffix}"
            return out
    return [{"role": "system", "content": suffix.strip()}, *out]


def raw_text(body: dict[str, Any]) -> str | None:
    """The answer's text (a forced tool call's arguments, or the message content), if any."""
    try:
        message = body["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        return None
    if not isinstance(message, dict):
        return None
    calls = message.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        arguments = function.get("arguments") if isinstance(function, dict) else None
        if isinstance(arguments, str):
            return arguments
        if arguments is not None:  # some servers send the arguments as an object
            try:
                return json.dumps(arguments)
            except (TypeError, ValueError, RecursionError):
                return None
    content = message.get("content")
    return content if isinstance(content, str) else None


def reask(kwargs: dict[str, Any], mode: Mode, body: dict[str, Any], errors: str) -> dict[str, Any]:
    """The next request: the failed answer plus the validation errors, as instructor words it."""
    base = {**kwargs, "messages": list(kwargs["messages"])}
    problem = ValueError(errors)
    try:
        return handle_reask_kwargs(base, mode, ChatCompletion.model_validate(body), problem)
    except Exception:  # a malformed completion object: fall back to a plain correction
        fallback = {"role": "user", "content": f"Fix these errors and answer again:\n{errors}"}
        base["messages"].append(fallback)
        return base
