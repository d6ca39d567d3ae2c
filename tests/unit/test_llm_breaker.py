"""The model server's circuit breaker: every outcome of a guarded call is recorded."""

from __future__ import annotations

import time

import pytest

from services.llm.breaker import BreakerOpen, CircuitBreaker


class Refusal(Exception):
    pass


def tripped(cooldown_s: float = 0.05) -> CircuitBreaker:
    breaker = CircuitBreaker(failures=2, cooldown_s=cooldown_s)
    breaker.failure()
    breaker.failure()
    return breaker


def test_it_opens_after_the_failures_in_a_row_and_fails_fast_during_the_cool_down() -> None:
    breaker = tripped(cooldown_s=60)
    assert breaker.is_open
    with pytest.raises(BreakerOpen) as info, breaker.guard():
        raise AssertionError("not reached")
    assert 0 < info.value.wait_s <= 60


@pytest.mark.parametrize(
    "error", [RecursionError, ValueError, KeyError, KeyboardInterrupt], ids=lambda e: e.__name__
)
def test_a_trial_ending_in_any_exception_opens_it_again_and_the_next_trial_is_let_through(
    error: type[BaseException],
) -> None:
    breaker = tripped()
    time.sleep(0.06)
    with pytest.raises(error), breaker.guard():
        assert breaker.is_open, "no other call goes while the trial runs"
        raise error()
    assert breaker.is_open  # a new cool-down
    time.sleep(0.06)
    with breaker.guard():
        pass
    assert not breaker.is_open and breaker.allow() is None


def test_a_refusal_from_a_live_server_closes_it() -> None:
    breaker = tripped()
    time.sleep(0.06)
    with pytest.raises(Refusal), breaker.guard(alive=(Refusal,)):
        raise Refusal()
    assert not breaker.is_open and breaker.allow() is None


def test_while_the_trial_runs_other_calls_fail_fast() -> None:
    breaker = tripped()
    time.sleep(0.06)
    with breaker.guard(), pytest.raises(BreakerOpen), breaker.guard():
        pass
    assert not breaker.is_open
