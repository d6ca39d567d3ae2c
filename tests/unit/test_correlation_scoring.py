"""Correlation's pure parts: reading events, the onset, the chains, and the score's parts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest

from domain.enums import EventSeverity, EventSource
from domain.models import Event
from services.investigations import context, signals
from services.investigations.scoring import Context, Scope, ago, score, touched

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
_ids = count(1)


def ev(
    source: EventSource,
    kind: str,
    minutes: float,
    service: str | None = "auth",
    severity: EventSeverity = EventSeverity.INFO,
    **data: Any,
) -> Event:
    return Event(
        id=next(_ids),
        source=source,
        type=kind,
        occurred_at=T0 + timedelta(minutes=minutes),
        severity=severity,
        service=service,
        title=f"{kind} {minutes}",
        data=data,
    )


def ctx(**kw: Any) -> Context:
    base: dict[str, Any] = {
        "service": "auth",
        "detected": T0,
        "scope": {"auth": Scope(0, 1.0, "same service (auth)")},
        "onset": T0 - timedelta(minutes=10),
        "onset_what": "first error spike of auth",
    }
    return Context(**{**base, **kw})


@pytest.mark.parametrize(
    ("data", "kind", "expected"),
    [
        ({"status": "failed"}, "deploy", "failed"),
        ({"status": "FAILURE"}, "deploy", "failed"),
        ({"status": "rolled_back"}, "deploy", "rolled back"),
        ({"status": "succeeded", "rolled_back": True}, "deploy", "rolled back"),
        ({}, "rollback", "rolled back"),
        ({"status": "passed"}, "deploy", None),
        ({"status": 3}, "deploy", None),
    ],
)
def test_a_deploy_outcome_is_read_from_whatever_the_source_sent(
    data: dict[str, Any], kind: str, expected: str | None
) -> None:
    assert signals.outcome(ev(EventSource.CI, kind, 0, **data)) == expected


def test_environments_and_harmless_files_are_recognised() -> None:
    assert [
        signals.is_production(e) for e in ("production", "prod", "canary-eu", "staging", "x")
    ] == [
        True,
        True,
        False,
        False,
        None,
    ]
    assert signals.only_tests_or_docs(["README.md", "auth/tests/test_jwt.py", "docs/a.txt"])
    assert not signals.only_tests_or_docs(["README.md", "auth/jwt.py"])
    assert not signals.only_tests_or_docs([])


def test_the_longest_path_prefix_wins_and_a_prefix_may_name_the_repository() -> None:
    c = ctx(paths=[("services/", "platform"), ("services/auth/", "auth"), ("acme/cfg/", "search")])
    commit = ev(EventSource.GIT, "commit", -5, None, files=["services/auth/a.py"], repo="acme/mono")
    assert touched(commit, c) == {"auth"}
    config = ev(EventSource.GIT, "commit", -5, None, files=["limits.yaml"], repo="acme/cfg")
    assert touched(config, c) == {"search"}
    assert touched(ev(EventSource.GIT, "commit", -5, None, files=["auth/x.py"]), c) == {"auth"}
    component = ctx(component="rate-limiter")
    assert touched(ev(EventSource.GIT, "commit", -5, files=["rate-limiter/k.py"]), component) == {
        "auth"
    }


def test_the_onset_is_the_start_of_the_run_of_symptoms_that_led_to_detection() -> None:
    spikes = [ev(EventSource.LOGS, "error_spike", m, severity=EventSeverity.HIGH) for m in
              (-600, -200, -130, -60, -5)]  # fmt: skip
    run = context.cluster(spikes, T0)
    assert [e.occurred_at for e in run] == [
        T0 + timedelta(minutes=m) for m in (-200, -130, -60, -5)
    ]
    stale = ev(EventSource.LOGS, "error_spike", -30 * 60, severity=EventSeverity.HIGH)
    assert context.cluster([stale], T0) == []  # nothing in the day before detection: no onset
    assert context.cluster([], T0) == []


def test_a_deploy_carries_its_commit_and_the_commits_since_the_previous_deploy() -> None:
    prev = ev(EventSource.CI, "deploy", -300, commit="p1", environment="production")
    staging = ev(EventSource.CI, "deploy", -100, commit="c2", environment="staging")
    early = ev(EventSource.GIT, "commit", -200, sha="c1", files=["auth/a.py"])
    named = ev(EventSource.GIT, "commit", -90, sha="c2", files=["auth/b.py"])
    other = ev(EventSource.GIT, "commit", -80, "search", sha="s1", files=["search/x.py"])
    deploy = ev(EventSource.CI, "deploy", -60, commit="C2", environment="production")
    chains = context.chains([prev, staging, early, named, other, deploy], ctx())
    assert [c.id for c in chains[deploy.id].commits] == [named.id, early.id]
    assert [c.id for c in chains[staging.id].commits] == [named.id]
    assert chains[named.id].deploy is deploy  # production before the onset beats staging
    assert chains[early.id].deploy is deploy and other.id not in chains


def test_a_failed_production_deploy_outranks_a_passing_one_which_outranks_staging_and_a_build() -> (
    None
):
    c = ctx()
    failed = ev(EventSource.CI, "deploy", -30, status="failed", environment="production")
    passing = ev(EventSource.CI, "deploy", -30, status="succeeded", environment="production")
    staging = ev(EventSource.CI, "deploy", -30, status="succeeded", environment="staging")
    build = ev(EventSource.CI, "build", -30, status="passed")
    scores = [score(e, c)[0] for e in (failed, passing, staging, build)]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 4
    _, reasons, rule = score(failed, c)
    assert rule == "suspect_change"
    assert "a failed deploy outranks a passing build" in reasons and "ran in production" in reasons
    assert reasons[1] == (
        "20 minutes before the symptoms began (first error spike of auth), 30 minutes before "
        "detection"
    )
    assert "ran only in staging" in score(staging, c)[1]
    after = ev(EventSource.CI, "deploy", -5)
    assert score(after, c)[1][1].startswith("5 minutes after the symptoms began, so it cannot")


def test_the_learned_part_is_shown_and_bounded_and_scores_stay_below_one() -> None:
    deploy = ev(EventSource.CI, "deploy", -11, status="failed", environment="production",
                severity=EventSeverity.CRITICAL)  # fmt: skip
    plain = score(deploy, ctx())[0]
    liked, reasons, _ = score(deploy, ctx(learned={"deploy": (9, 1)}))
    disliked = score(deploy, ctx(learned={"deploy": (0, 40)}))[0]
    assert disliked < plain < liked < 1
    assert (
        "learned x1.17: 9 of 10 deploy events accepted in this organisation's earlier decisions"
        in reasons
    )


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(15, "15 minutes"), (119, "119 minutes"), (120, "2 h"), (185, "3 h 5 min"),
     (48 * 60, "2 d"), (50 * 60, "2 d 2 h")],
)  # fmt: skip
def test_time_differences_read_like_a_person_would_say_them(minutes: int, text: str) -> None:
    assert ago(timedelta(minutes=minutes)) == ago(-timedelta(minutes=minutes)) == text


def test_without_an_onset_everything_is_measured_to_detection() -> None:
    c = ctx(onset=None, onset_what="")
    commit = ev(EventSource.GIT, "commit", -50, sha="d1", files=["auth/a.py"])
    deploy = ev(EventSource.CI, "deploy", -40, commit="d1", environment="production")
    c.chains = context.chains([commit, deploy], c)
    _, reasons, _ = score(commit, c)
    assert reasons[1] == "50 minutes before detection"
    assert f"shipped by deploy #{deploy.id} to production 40 minutes before detection" in reasons
    assert not any("symptoms" in r for r in reasons)
