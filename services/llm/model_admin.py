"""The Models page's service: what the configured server has and has loaded, delete, "try it",
and per-model figures from recorded calls (pulls are in services/llm/model_pulls.py).

Ollama answers everything (native /api). llama.cpp's server speaks only the OpenAI API: it
lists model names at /v1/models and answers chat completions; sizes, families, quantisation,
what is loaded, pulling and deleting are not available there, and the page says so.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
from pydantic import BaseModel
from sqlalchemy import func, select

from domain.models import LLMCall
from services import audit
from services.actor import Actor
from services.config import get_settings
from services.errors import InvalidInput, LLMError, LLMTimeout, LLMUnavailable, NotFound
from services.llm import models, wire
from services.permissions import Action, require
from services.uow import UnitOfWork

BOUND_S = 10.0
TRY_BOUND_S = 120.0
MAX_PROMPT = 4_000
OPENAI_ONLY_LIMITS = (
    "size, family and quantisation",
    "which models are loaded",
    "pulling models",
    "deleting models",
    "load time",
)


class ModelRow(BaseModel):
    name: str
    size_bytes: int | None = None
    family: str | None = None
    parameter_size: str | None = None
    quantization: str | None = None
    loaded: bool | None = None  # None: the server cannot say


class ServerModels(BaseModel):
    url: str
    kind: Literal["ollama", "openai"]
    models: list[ModelRow]
    cannot: list[str]


class TryResult(BaseModel):
    model: str
    text: str
    latency_ms: int
    completion_tokens: int | None
    tokens_per_second: float | None
    load_ms: int | None


class ModelUsage(BaseModel):
    model: str
    calls: int
    tokens_per_second: float | None
    mean_latency_ms: float | None
    loads: int = 0  # calls that loaded the model first (their load time was measured)
    median_load_ms: float | None = None
    last_load_ms: int | None = None


def model_name(name: str) -> str:
    """A model name as typed, trimmed; InvalidInput for empty, spaced or control characters."""
    text = name.strip()
    if not text or len(text) > 200 or any(c.isspace() or ord(c) < 32 for c in text):
        raise InvalidInput("Give a model name such as llama3.2 or qwen2.5:7b (no spaces).")
    return text


def _json(method: str, url: str, body: Any = None, bound: float = BOUND_S) -> Any:
    try:
        answer = wire.request(method, url, bound_s=bound, idle_s=bound, json=body)
    except httpx.TimeoutException as exc:
        raise LLMTimeout(f"The model server at {url} did not answer in time.") from exc
    except httpx.HTTPError as exc:
        raise LLMUnavailable(f"The model server at {url} cannot be reached: {exc}.") from exc
    if answer.status == 404:
        raise NotFound(f"{url} answered 404: {answer.text[:200]}")
    if answer.status >= 400:
        raise LLMError(f"The model server at {url} answered HTTP {answer.status}.")
    try:
        return json.loads(answer.text) if answer.text.strip() else {}
    except (ValueError, RecursionError) as exc:
        raise LLMError(f"The model server at {url} answered in an unknown form.") from exc


def _field(data: Any, *path: str) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def server_kind() -> Literal["ollama", "openai"]:
    """Whether the configured server speaks Ollama's native API or only the OpenAI one."""
    try:
        _json("GET", f"{models.native_url()}/api/version", bound=5.0)
    except NotFound:
        return "openai"
    return "ollama"


def server_models(*, actor: Actor) -> ServerModels:
    """The models on the configured server, with what that kind of server can tell."""
    require(actor, Action.MANAGE_MODELS)
    base, native = get_settings().llm_base_url.rstrip("/"), models.native_url()
    try:
        tags = _json("GET", f"{native}/api/tags")
    except NotFound:
        listed = _json("GET", f"{base}/models")
        data = listed.get("data") if isinstance(listed, dict) else None
        names = [str(m.get("id")) for m in data or [] if isinstance(m, dict) and m.get("id")]
        rows = [ModelRow(name=n) for n in names]
        return ServerModels(url=base, kind="openai", models=rows, cannot=list(OPENAI_ONLY_LIMITS))
    running = _json("GET", f"{native}/api/ps")
    loaded = {str(m.get("model") or m.get("name")) for m in _field(running, "models") or []}
    rows = []
    for m in _field(tags, "models") or []:
        if not isinstance(m, dict):
            continue
        name = str(m.get("model") or m.get("name") or "")
        size = m.get("size")
        rows.append(
            ModelRow(
                name=name,
                size_bytes=size if isinstance(size, int) else None,
                family=_str(_field(m, "details", "family")),
                parameter_size=_str(_field(m, "details", "parameter_size")),
                quantization=_str(_field(m, "details", "quantization_level")),
                loaded=name in loaded,
            )
        )
    return ServerModels(url=native, kind="ollama", models=rows, cannot=[])


def _str(value: Any) -> str | None:
    return str(value)[:100] if value is not None else None


def delete_model(*, actor: Actor, name: str) -> None:
    """Delete a model from an Ollama server (audited)."""
    require(actor, Action.MANAGE_MODELS)
    model = model_name(name)
    if server_kind() == "openai":
        raise InvalidInput("This server speaks only the OpenAI API; it cannot delete models.")
    _json("DELETE", f"{models.native_url()}/api/delete", {"model": model})
    with UnitOfWork(actor) as uow:
        audit.record(
            uow,
            action="llm.model_deleted",
            entity_type="llm_model",
            entity_id=None,
            after={"model": model, "server": models.native_url()},
        )
        uow.commit()


def try_model(
    *, actor: Actor, name: str, prompt: str, clock: Callable[[], float] = time.perf_counter
) -> TryResult:
    """Send one prompt to a model and measure latency and tokens per second."""
    require(actor, Action.MANAGE_MODELS)
    model = model_name(name)
    if not prompt.strip() or len(prompt) > MAX_PROMPT or "\x00" in prompt:
        raise InvalidInput(f"Write a prompt of 1 to {MAX_PROMPT:,} characters (no NUL).")
    started = clock()
    if server_kind() == "ollama":
        body = {"model": model, "prompt": prompt, "stream": False, "options": {"num_predict": 200}}
        out = _json("POST", f"{models.native_url()}/api/generate", body, TRY_BOUND_S)
        latency = int((clock() - started) * 1000)
        tokens, eval_ns = out.get("eval_count"), out.get("eval_duration")
        rate = tokens / (eval_ns / 1e9) if _pos(tokens) and _pos(eval_ns) else None
        load = out.get("load_duration")
        return TryResult(
            model=model,
            text=str(out.get("response", ""))[:4000],
            latency_ms=latency,
            completion_tokens=tokens if _pos(tokens) else None,
            tokens_per_second=rate,
            load_ms=int(load / 1e6) if _pos(load) else None,
        )
    base = get_settings().llm_base_url.rstrip("/")
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": 200}
    out = _json("POST", f"{base}/chat/completions", body, TRY_BOUND_S)
    latency = int((clock() - started) * 1000)
    tokens = _field(out, "usage", "completion_tokens")
    choices = out.get("choices") if isinstance(out, dict) else None
    text = _field(choices[0], "message", "content") if isinstance(choices, list) and choices else ""
    rate = tokens / (latency / 1000) if _pos(tokens) and latency > 0 else None
    return TryResult(
        model=model,
        text=str(text or "")[:4000],
        latency_ms=latency,
        completion_tokens=tokens if _pos(tokens) else None,
        tokens_per_second=rate,
        load_ms=None,
    )


def _pos(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and value > 0
        and (math.isfinite(value))
    )


def model_usage(*, actor: Actor, now: datetime, days: int = 7) -> list[ModelUsage]:
    """Per model over the last ``days``: calls, tokens per second, latency and load times."""
    require(actor, Action.MANAGE_MODELS)
    since = now - timedelta(days=max(1, min(days, 90)))
    window = (LLMCall.created_at >= since, LLMCall.created_at < now)
    with UnitOfWork(actor, readonly=True) as uow:
        loads: dict[str, list[int]] = {}  # per model, oldest first
        for m, ms in uow.session.execute(
            select(LLMCall.model, LLMCall.load_ms)
            .where(*window, LLMCall.load_ms.is_not(None))
            .order_by(LLMCall.created_at, LLMCall.id)
        ):
            loads.setdefault(m, []).extend([ms] if ms is not None else [])
        rows = uow.session.execute(
            select(
                LLMCall.model,
                func.count(),
                func.coalesce(func.sum(LLMCall.completion_tokens), 0),
                func.coalesce(func.sum(LLMCall.latency_ms), 0),
            )
            .where(*window)
            .group_by(LLMCall.model)
            .order_by(LLMCall.model)
        ).all()
    return [
        ModelUsage(
            model=m,
            calls=n,
            tokens_per_second=tokens / (ms / 1000) if ms else None,
            mean_latency_ms=ms / n if n else None,
            loads=len(loads.get(m, [])),
            median_load_ms=statistics.median(loads[m]) if loads.get(m) else None,
            last_load_ms=loads[m][-1] if loads.get(m) else None,
        )
        for m, n, tokens, ms in rows
    ]
