"""The one way to call the language model: typed answers or typed errors, never a hang.

Requests are shaped by ``instructor`` for the configured mode (JSON schema, tools or JSON) and
sent to an OpenAI-compatible ``/v1`` endpoint (Ollama, or llama.cpp's server). The answer goes
through :mod:`services.llm.parsing`; an answer that does not validate is re-asked with the
validation errors (instructor's re-ask messages), at most ``max_reasks`` times. Transport errors
and timeouts are retried with tenacity inside a total deadline; a circuit breaker per URL fails
fast while the server is down. Every call writes one LLM call row.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from domain.enums import LLMMode, LLMOutcome
from services.config import get_settings
from services.errors import LLMError, LLMInvalidOutput, LLMTimeout, LLMUnavailable
from services.llm import breaker as breakers
from services.llm import parsing, recording, shaping
from services.llm.recording import CallContext, CallStats

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str
    mode: LLMMode = LLMMode.JSON_SCHEMA
    timeout_s: float = 60.0
    max_reasks: int = 2
    transport_attempts: int = 3
    deadline_s: float = 180.0
    breaker_failures: int = 3
    breaker_cooldown_s: float = 30.0
    backoff_s: float = 0.5
    backoff_max_s: float = 8.0

    @classmethod
    def from_settings(cls) -> LLMConfig:
        s = get_settings()
        return cls(
            base_url=s.llm_base_url,
            model=s.llm_model,
            mode=LLMMode(s.llm_mode),
            timeout_s=s.llm_timeout_s,
            max_reasks=s.llm_max_reasks,
            transport_attempts=s.llm_transport_attempts,
            deadline_s=s.llm_deadline_s,
            breaker_failures=s.llm_breaker_failures,
            breaker_cooldown_s=s.llm_breaker_cooldown_s,
        )


@dataclass(frozen=True)
class LLMResult(Generic[M]):
    value: M
    outcome: LLMOutcome
    call_id: int | None
    attempts: int
    reasks: int
    latency_ms: int


class _ServerError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = status


@dataclass
class _Call:
    deadline: float
    stats: CallStats = field(default_factory=CallStats)


class LLMClient:
    """A client for one model server; share it (it keeps connections and the breaker)."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self.mode = shaping.INSTRUCTOR_MODES[config.mode]
        self._http = httpx.Client(
            base_url=config.base_url.rstrip("/"),
            headers={"Authorization": "Bearer ollama"},
            timeout=httpx.Timeout(config.timeout_s, connect=min(config.timeout_s, 5.0)),
        )
        self.breaker = breakers.for_url(
            config.base_url,
            failures=config.breaker_failures,
            cooldown_s=config.breaker_cooldown_s,
        )

    def close(self) -> None:
        self._http.close()

    def complete(
        self,
        response_model: type[M],
        messages: list[dict[str, Any]],
        *,
        ctx: CallContext,
        params: dict[str, Any] | None = None,
    ) -> LLMResult[M]:
        """Ask the model for one ``response_model``; record the call; typed result or error."""
        started = time.perf_counter()
        call = _Call(deadline=time.monotonic() + self.config.deadline_s)
        outcome = LLMOutcome.ERROR
        error: LLMError | None = None
        value: M | None = None
        try:
            value = self._complete(response_model, messages, params or {}, call)
            outcome = LLMOutcome.REPAIRED if call.stats.repaired else LLMOutcome.OK
        except LLMTimeout as exc:
            outcome, error = LLMOutcome.TIMEOUT, exc
        except LLMUnavailable as exc:
            outcome, error = LLMOutcome.UNAVAILABLE, exc
        except LLMInvalidOutput as exc:
            outcome, error = LLMOutcome.INVALID, exc
        except LLMError as exc:
            outcome, error = LLMOutcome.ERROR, exc
        except Exception as exc:  # anything unforeseen still ends as a typed, recorded error
            error = LLMError(f"The language model call failed unexpectedly: {exc}")
            error.__cause__ = exc
        latency_ms = int((time.perf_counter() - started) * 1000)
        call_id = recording.record(
            ctx,
            model=self.config.model,
            mode=self.config.mode,
            latency_ms=latency_ms,
            stats=call.stats,
            outcome=outcome,
            error=error.message if error else None,
        )
        if error is not None or value is None:
            raise error or LLMError("The language model returned nothing.")
        s = call.stats
        return LLMResult(value, outcome, call_id, s.attempts, s.reasks, latency_ms)

    def _complete(
        self,
        response_model: type[M],
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        call: _Call,
    ) -> M:
        extra, suffix = shaping.request_shape(response_model, self.mode)
        kwargs: dict[str, Any] = {
            **params,
            **extra,
            "model": self.config.model,
            "messages": shaping.with_suffix(messages, suffix),
            "stream": False,
        }
        stats = call.stats
        while True:
            body = self._post(kwargs, call)
            usage = body.get("usage") or {}
            stats.prompt_tokens += int(usage.get("prompt_tokens") or 0)
            stats.completion_tokens += int(usage.get("completion_tokens") or 0)
            raw = shaping.raw_text(body)
            parsed = parsing.parse(raw, response_model)
            stats.repaired = stats.repaired or parsed.repaired
            if parsed.value is not None:
                return parsed.value
            stats.validation_errors.extend({"reask": stats.reasks, **e} for e in parsed.errors)
            stats.failed_outputs.append(raw if raw is not None else str(body)[:2000])
            if stats.reasks >= self.config.max_reasks:
                raise LLMInvalidOutput(
                    f"The language model's answer did not fit the expected form after "
                    f"{stats.reasks + 1} tries: {parsed.error_text}"
                )
            stats.reasks += 1
            kwargs = shaping.reask(kwargs, self.mode, body, parsed.error_text)

    def _post(self, kwargs: dict[str, Any], call: _Call) -> dict[str, Any]:
        url = self.config.base_url
        wait = self.breaker.allow()
        if wait is not None:
            raise LLMUnavailable(
                f"The language model at {url} is unavailable (it failed repeatedly); "
                f"the next try is in {wait:.0f} s."
            )
        retrying = Retrying(
            stop=stop_after_attempt(self.config.transport_attempts) | _past(call.deadline),
            wait=wait_random_exponential(
                multiplier=self.config.backoff_s, max=self.config.backoff_max_s
            ),
            retry=retry_if_exception_type((httpx.TransportError, _ServerError)),
            reraise=True,
        )
        try:
            body = retrying(self._send, kwargs, call)
        except httpx.TimeoutException as exc:
            self.breaker.failure()
            raise LLMTimeout(
                f"The language model at {url} did not answer within "
                f"{self.config.timeout_s:g} s ({call.stats.attempts} tries)."
            ) from exc
        except httpx.TransportError as exc:
            self.breaker.failure()
            raise LLMUnavailable(
                f"The language model at {url} cannot be reached: {exc or type(exc).__name__}."
            ) from exc
        except LLMError:
            self.breaker.success()  # it answered (a refusal): the server is alive
            raise
        except _ServerError as exc:
            self.breaker.failure()
            if exc.status in {429, 502, 503, 504}:
                raise LLMUnavailable(
                    f"The language model at {url} is unavailable ({exc})."
                ) from exc
            raise LLMError(f"The language model at {url} failed: {exc}") from exc
        self.breaker.success()
        return body

    def _send(self, kwargs: dict[str, Any], call: _Call) -> dict[str, Any]:
        call.stats.attempts += 1
        remaining = max(call.deadline - time.monotonic(), 0.001)
        timeout = min(self.config.timeout_s, remaining)
        response = self._http.post("/chat/completions", json=kwargs, timeout=timeout)
        if response.status_code >= 500 or response.status_code == 429:
            raise _ServerError(response.status_code, response.text)
        if response.status_code >= 400:
            raise LLMError(
                f"The language model at {self.config.base_url} refused the request: "
                f"HTTP {response.status_code}: {response.text[:300]}"
            )
        try:
            body = response.json()
        except ValueError:
            return {"choices": [{"message": {"content": response.text}}]}
        return body if isinstance(body, dict) else {"choices": []}


def _past(deadline: float) -> Any:
    def stop(_state: RetryCallState) -> bool:
        return time.monotonic() >= deadline

    return stop


@lru_cache(maxsize=4)
def _client(config: LLMConfig) -> LLMClient:
    return LLMClient(config)


def get_client() -> LLMClient:
    """The process's client for the configured model server."""
    return _client(LLMConfig.from_settings())
