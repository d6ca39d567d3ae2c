"""Retry with backoff (tenacity), and the shared circuit-breaker rule kept on a health row."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from domain.enums import BreakerState
from domain.models import ConnectorHealth
from services.circuit import Rule
from services.errors import ServiceError

T = TypeVar("T")


class SourceUnavailable(Exception):
    """Reading the source failed in a way a retry may fix (I/O, a subprocess that failed)."""


class CircuitOpen(ServiceError):
    title = "Connector paused"


def retry(
    read: Callable[[], T],
    *,
    attempts: int,
    backoff_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``read()``, retried on SourceUnavailable with exponential backoff; the last error wins."""
    retrying = Retrying(
        stop=stop_after_attempt(max(attempts, 1)),
        wait=wait_exponential(multiplier=backoff_s, exp_base=2, min=0),
        retry=retry_if_exception_type(SourceUnavailable),
        sleep=sleep,
        reraise=True,
    )
    return retrying(read)


def _rule(cooldown_s: float, threshold: int) -> Rule:
    return Rule(failures=threshold, cooldown_s=cooldown_s)


def admit(
    health: ConnectorHealth | None, *, now: datetime, cooldown_s: float, threshold: int
) -> BreakerState:
    """The state a call runs under (closed or half-open), or CircuitOpen while paused."""
    if health is None:
        return BreakerState.CLOSED
    opened = None if health.opened_at is None else (now - health.opened_at).total_seconds()
    state, wait = _rule(cooldown_s, threshold).state(
        consecutive=health.consecutive_failures or 0, opened_s_ago=opened
    )
    if state is BreakerState.OPEN:
        retry_at = now + timedelta(seconds=wait)
        raise CircuitOpen(
            f"The {health.source.value} connector is paused after "
            f"{health.consecutive_failures} failed attempts in a row (last error: "
            f"{health.last_error}). It will try again after {retry_at:%H:%M:%S} UTC."
        )
    return state


def succeeded(health: ConnectorHealth, *, now: datetime) -> None:
    """Close the breaker after a successful call."""
    health.breaker_state = BreakerState.CLOSED
    health.consecutive_failures = 0
    health.opened_at = None
    health.last_success_at = now


def failed(health: ConnectorHealth, *, now: datetime, error: str, threshold: int) -> None:
    """Count a failure; open the breaker at the threshold (a failed half-open trial is past it)."""
    was_trial = health.breaker_state is not BreakerState.CLOSED
    health.consecutive_failures = (health.consecutive_failures or 0) + 1
    health.last_error = error[:2000]
    health.last_error_at = now
    if _rule(0.0, threshold).opens(health.consecutive_failures, trial=was_trial):
        health.breaker_state = BreakerState.OPEN
        health.opened_at = now
