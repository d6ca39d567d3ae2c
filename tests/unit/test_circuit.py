"""One breaker rule: the model-server breaker and the connector breaker give the same states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.enums import BreakerState, EventSource
from domain.models import ConnectorHealth
from services.circuit import Rule
from services.ingest import breaker as connector
from services.llm.breaker import CircuitBreaker

B = BreakerState
RULE = Rule(failures=2, cooldown_s=30)


@pytest.mark.parametrize(
    ("consecutive", "opened_s_ago", "trial", "expected"),
    [
        (0, None, False, (B.CLOSED, 0.0)),
        (1, None, False, (B.CLOSED, 0.0)),
        (2, 0.0, False, (B.OPEN, 30.0)),
        (2, 25.0, False, (B.OPEN, 5.0)),
        (2, 30.0, False, (B.HALF_OPEN, 0.0)),
        (2, 31.0, True, (B.OPEN, 30.0)),  # one trial at a time
    ],
)
def test_the_rule_gives_the_state_a_call_meets(
    consecutive: int, opened_s_ago: float | None, trial: bool, expected: tuple[B, float]
) -> None:
    got = RULE.state(consecutive=consecutive, opened_s_ago=opened_s_ago, trial_running=trial)
    assert got == expected


def test_a_failure_opens_at_the_threshold_or_when_it_ends_a_trial() -> None:
    assert not RULE.opens(1, trial=False)
    assert RULE.opens(2, trial=False)
    assert RULE.opens(1, trial=True)


def test_both_breakers_open_at_the_same_failure_and_let_a_trial_through_after_the_cooldown() -> (
    None
):
    memory = CircuitBreaker(failures=2, cooldown_s=0.0)
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    row = ConnectorHealth(source=EventSource.GIT, breaker_state=B.CLOSED, consecutive_failures=0)
    memory.failure()
    connector.failed(row, now=now, error="x", threshold=2)
    assert not memory.is_open and row.breaker_state is B.CLOSED
    memory.failure()
    connector.failed(row, now=now, error="x", threshold=2)
    assert row.breaker_state is B.OPEN
    with pytest.raises(connector.CircuitOpen):
        connector.admit(row, now=now + timedelta(seconds=10), cooldown_s=30, threshold=2)
    later = now + timedelta(seconds=31)
    assert connector.admit(row, now=later, cooldown_s=30, threshold=2) is B.HALF_OPEN
    assert memory.allow() is None  # the cool-down (0 s) is over: the trial goes
    assert memory.allow() is not None  # and only one
    memory.success()
    connector.succeeded(row, now=later)
    assert not memory.is_open and row.breaker_state is B.CLOSED
