"""The worker's periodic jobs: due once per interval, and a service error never stops the loop."""

from __future__ import annotations

import logging

import pytest

from services.errors import DatabaseUnavailable
from services.periodic import Periodic


def test_a_job_runs_when_due_and_not_again_within_its_interval() -> None:
    calls: list[int] = []
    job = Periodic("count", lambda: calls.append(1) or None, interval_s=3600)
    job.maybe_run()
    job.maybe_run()
    assert calls == [1]


def test_a_delayed_job_waits_for_its_first_run() -> None:
    calls: list[int] = []
    job = Periodic("late", lambda: calls.append(1) or None, interval_s=1, delay_s=3600)
    job.maybe_run()
    assert calls == []


def test_a_service_error_is_logged_and_the_next_tick_tries_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcomes = iter([DatabaseUnavailable("database is locked"), "did 3 things"])

    def job() -> str | None:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    periodic = Periodic("flaky", job, interval_s=0)
    with caplog.at_level(logging.INFO, logger="services.periodic"):
        periodic.maybe_run()
        periodic.maybe_run()
    assert [r.getMessage() for r in caplog.records] == [
        "flaky skipped: database is locked",
        "flaky: did 3 things",
    ]
