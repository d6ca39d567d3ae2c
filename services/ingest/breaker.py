"""Retry with backoff, and the circuit-breaker rules, as pure functions over a health row."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from domain.enums import BreakerState
from domain.models import ConnectorHealth
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
    for attempt in range(1, attempts + 1):
        try:
            return read()
        except SourceUnavailable:
            if attempt == attempts:
                raise
            sleep(backoff_s * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def admit(health: ConnectorHealth | None, *, now: datetime, cooldown_s: float) -> BreakerState:
    """The state a call runs under (closed or half-open), or CircuitOpen while paused."""
    if health is None or health.breaker_state is BreakerState.CLOSED:
        return BreakerState.CLOSED
    opened = health.opened_at or now
    retry_at = opened + timedelta(seconds=cooldown_s)
    if health.breaker_state is BreakerState.OPEN and now < retry_at:
        raise CircuitOpen(
            f"The {health.source.value} connector is paused after "
            f"{health.consecutive_failures} failed attempts in a row (last error: "
            f"{health.last_error}). It will try again after {retry_at:%H:%M:%S} UTC."
        )
    return BreakerState.HALF_OPEN


def succeeded(health: ConnectorHealth, *, now: datetime) -> None:
    """Close the breaker after a successful call."""
    health.breaker_state = BreakerState.CLOSED
    health.consecutive_failures = 0
    health.opened_at = None
    health.last_success_at = now


def failed(health: ConnectorHealth, *, now: datetime, error: str, threshold: int) -> None:
    """Count a failure; open the breaker at the threshold or when a half-open trial fails."""
    was_trial = health.breaker_state is not BreakerState.CLOSED
    health.consecutive_failures = (health.consecutive_failures or 0) + 1
    health.last_error = error[:2000]
    health.last_error_at = now
    if was_trial or health.consecutive_failures >= threshold:
        health.breaker_state = BreakerState.OPEN
        health.opened_at = now
