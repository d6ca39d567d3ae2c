"""Retry, the breaker's rules, timestamps and the spike rule, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.enums import BreakerState, EventSource
from domain.models import ConnectorHealth
from services.ingest import breaker
from services.ingest.logs import spikes
from services.ingest.schema import TimestampError, parse_ts

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_retry_backs_off_exponentially_and_returns_once_the_source_answers() -> None:
    calls: list[int] = []
    waits: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise breaker.SourceUnavailable("connection reset")
        return "data"

    assert breaker.retry(flaky, attempts=3, backoff_s=0.5, sleep=waits.append) == "data"
    assert waits == [0.5, 1.0]


def test_retry_gives_up_after_the_last_attempt_with_the_last_error() -> None:
    def down() -> str:
        raise breaker.SourceUnavailable("still down")

    with pytest.raises(breaker.SourceUnavailable, match="still down"):
        breaker.retry(down, attempts=2, backoff_s=0, sleep=lambda _s: None)


def _health() -> ConnectorHealth:
    return ConnectorHealth(
        source=EventSource.GIT, breaker_state=BreakerState.CLOSED, consecutive_failures=0
    )


def test_breaker_opens_at_the_threshold_pauses_then_admits_one_trial_after_cooldown() -> None:
    health = _health()
    for _ in range(2):
        breaker.failed(health, now=NOW, error="boom", threshold=3)
    assert health.breaker_state is BreakerState.CLOSED
    breaker.failed(health, now=NOW, error="boom", threshold=3)
    assert health.breaker_state is BreakerState.OPEN
    with pytest.raises(breaker.CircuitOpen, match="12:01:00 UTC"):
        breaker.admit(health, now=NOW + timedelta(seconds=59), cooldown_s=60, threshold=3)
    state = breaker.admit(health, now=NOW + timedelta(seconds=61), cooldown_s=60, threshold=3)
    assert state is BreakerState.HALF_OPEN


def test_a_failed_half_open_trial_opens_the_breaker_again_and_a_success_closes_it() -> None:
    health = _health()
    health.breaker_state = BreakerState.HALF_OPEN
    breaker.failed(health, now=NOW, error="boom", threshold=5)
    assert health.breaker_state is BreakerState.OPEN and health.opened_at == NOW
    breaker.succeeded(health, now=NOW)
    assert (health.breaker_state, health.consecutive_failures) == (BreakerState.CLOSED, 0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-11-22T10:00:00", "no time zone"),
        ("yesterday", "not an ISO-8601 time"),
        (1700000000, "must be an ISO-8601 string, got int"),
        ("2026-11-23T10:00:00Z", "lies in the future"),
    ],
)
def test_unusable_timestamps_are_refused_with_the_reason(value: object, message: str) -> None:
    with pytest.raises(TimestampError, match=message):
        parse_ts(value, now=NOW, skew=timedelta(minutes=5))


def test_a_sustained_spike_is_one_event_at_its_onset_and_a_steady_rate_is_none() -> None:
    start = int(NOW.timestamp()) // 60
    steady = {start + m: 4 for m in range(30)}
    assert spikes("api", steady) == []
    spiking = {**steady, start + 30: 40, start + 31: 50}
    (spike,) = spikes("api", spiking)
    assert spike.occurred_at == NOW + timedelta(minutes=30)
    assert spike.data["minutes"] == 2 and spike.data["peak_per_minute"] == 50
