"""The one way to call the language model: typed answers or typed errors, never a hang.

Requests are shaped by ``instructor`` for the configured mode (JSON schema, tools or JSON) and
sent to an OpenAI-compatible ``/v1`` endpoint (Ollama, or llama.cpp's server). The answer goes
through :mod:`services.llm.parsing`; an answer that does not validate is re-asked with the
validation errors (instructor's re-ask messages), at most ``max_reasks`` times. Transport errors
and timeouts are retried with tenacity inside a total deadline; each request runs under a hard
wall-clock bound (:mod:`services.llm.wire`), so not even a trickling body outlives the deadline.
A circuit breaker per URL fails fast while the server is down. On Ollama a model that is not
loaded is loaded first (:mod:`services.llm.preload`), so the call's row carries its load time.
Every call writes one LLM call row; a malformed ``usage`` block leaves the answer intact and its
tokens unknown.
"""

from __future__ import annotations

import json
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

from domain.enums import LLMOutcome
from services.errors import LLMError, LLMInvalidOutput, LLMTimeout, LLMUnavailable
from services.llm import breaker as breakers
from services.llm import parsing, preload, recording, shaping, wire
from services.llm.llm_config import LLMConfig as LLMConfig  # re-exported: callers import it here
from services.llm.recording import CallContext, CallStats

M = TypeVar("M", bound=BaseModel)


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
        self.preloader = preload.for_url(config.base_url)
        self._url = f"{config.base_url.rstrip('/')}/chat/completions"
        self.breaker = breakers.for_url(
            config.base_url,
            failures=config.breaker_failures,
            cooldown_s=config.breaker_cooldown_s,
        )

    def close(self) -> None:
        """Nothing to release: each request opens (and closes) its own connection."""

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
            if not self.breaker.is_open:  # a server known to be down gets no extra request
                call.stats.load_ms = self._load_ms(call)
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

    def _load_ms(self, call: _Call) -> int | None:
        """On Ollama, load the model first if it is not loaded; None: no load measured."""
        c = self.config
        return self.preloader.load_ms(
            c.model, keep_alive=c.keep_alive, deadline=call.deadline, bound_s=c.timeout_s
        )

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
            recording.add_usage(stats, body.get("usage"))
            raw = shaping.raw_text(body)
            parsed = parsing.parse(raw, response_model)
            stats.repaired = stats.repaired or parsed.repaired
            if parsed.value is not None:
                return parsed.value
            stats.validation_errors.extend({"reask": stats.reasks, **e} for e in parsed.errors)
            stats.failed_outputs.append(raw if raw is not None else _preview(body))
            if stats.reasks >= self.config.max_reasks:
                raise LLMInvalidOutput(
                    f"The language model's answer did not fit the expected form after "
                    f"{stats.reasks + 1} tries: {parsed.error_text}"
                )
            stats.reasks += 1
            kwargs = shaping.reask(kwargs, self.mode, body, parsed.error_text)

    def _post(self, kwargs: dict[str, Any], call: _Call) -> dict[str, Any]:
        url = self.config.base_url
        if time.monotonic() >= call.deadline:  # re-asks used it up: the server is not to blame
            raise LLMTimeout(self._too_slow(call))
        retrying = Retrying(
            stop=stop_after_attempt(self.config.transport_attempts) | _past(call.deadline),
            wait=_until(
                call.deadline,
                wait_random_exponential(
                    multiplier=self.config.backoff_s, max=self.config.backoff_max_s
                ),
            ),
            retry=retry_if_exception_type((httpx.TransportError, _ServerError)),
            reraise=True,
        )
        try:
            # Any outcome ends the breaker's call: an answer (even a refusal) closes it, every
            # other exception counts as a failure, so a half-open trial is always released.
            with self.breaker.guard(alive=(LLMError,)):
                return retrying(self._send, kwargs, call)
        except breakers.BreakerOpen as exc:
            raise LLMUnavailable(
                f"The language model at {url} is unavailable (it failed repeatedly); "
                f"the next try is in {exc.wait_s:.0f} s."
            ) from exc
        except wire.DeadlineExceeded as exc:
            raise LLMTimeout(self._too_slow(call)) from exc
        except httpx.TimeoutException as exc:
            raise LLMTimeout(self._too_slow(call)) from exc
        except httpx.TransportError as exc:
            raise LLMUnavailable(
                f"The language model at {url} cannot be reached: {exc or type(exc).__name__}."
            ) from exc
        except httpx.DecodingError as exc:
            raise LLMError(
                f"The language model at {url} sent an answer that cannot be decoded: {exc}."
            ) from exc
        except _ServerError as exc:
            if exc.status in {429, 502, 503, 504}:
                raise LLMUnavailable(
                    f"The language model at {url} is unavailable ({exc})."
                ) from exc
            raise LLMError(f"The language model at {url} failed: {exc}") from exc

    def _too_slow(self, call: _Call) -> str:
        url, tries = self.config.base_url, call.stats.attempts
        if time.monotonic() >= call.deadline - 0.05:
            return (
                f"The language model at {url} did not finish answering within the call's "
                f"deadline of {self.config.deadline_s:g} s ({tries} tries)."
            )
        return (
            f"The language model at {url} did not answer within "
            f"{self.config.timeout_s:g} s ({tries} tries)."
        )

    def _send(self, kwargs: dict[str, Any], call: _Call) -> dict[str, Any]:
        remaining = call.deadline - time.monotonic()
        if remaining <= 0:
            raise wire.DeadlineExceeded("the call's deadline has passed")
        call.stats.attempts += 1
        answer = wire.request(
            "POST",
            self._url,
            json=kwargs,
            headers={"Authorization": "Bearer ollama"},
            bound_s=min(self.config.timeout_s, remaining),
            idle_s=min(self.config.timeout_s, remaining),
        )
        if answer.status >= 500 or answer.status == 429:
            raise _ServerError(answer.status, answer.text)
        if answer.status >= 400:
            raise LLMError(
                f"The language model at {self.config.base_url} refused the request: "
                f"HTTP {answer.status}: {answer.text[:300]}"
            )
        try:
            body = json.loads(answer.text)
        except (ValueError, RecursionError):  # not JSON, or nested past any sane depth
            return {"choices": [{"message": {"content": answer.text}}]}
        return body if isinstance(body, dict) else {"choices": []}


def _preview(body: dict[str, Any]) -> str:
    try:
        return str(body)[:2000]
    except RecursionError:
        return "(an answer nested too deeply to show)"


def _until(deadline: float, wait: Any) -> Any:
    """A tenacity wait that never sleeps past the call's deadline."""

    def capped(state: RetryCallState) -> float:
        return float(max(min(wait(state), deadline - time.monotonic()), 0.0))

    return capped


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
