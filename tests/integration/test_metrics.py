"""Each metrics aggregate against figures computed by hand from tests/integration/metrics_data.py,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from pytest import approx

from domain.enums import AgentName, ReviewKind, Role, RunStatus
from services.config import get_settings
from services.errors import InvalidInput
from services.metrics import cost, dashboard, llm, queue, reviews, runs
from services.metrics.filters import MetricsFilter, build_filter
from services.tenants import TenantWithUsers
from tests.integration.metrics_data import DAY1, DAY2, END, NOW, Dataset, seed_metrics

Pair = tuple[TenantWithUsers, TenantWithUsers]


@pytest.fixture
def seeded(two_tenants: Pair) -> Iterator[tuple[TenantWithUsers, TenantWithUsers, Dataset]]:
    north, south = two_tenants
    yield north, south, seed_metrics(north, south)


def period(**extra: object) -> MetricsFilter:
    return build_filter(start=DAY1, end=END, **extra)


def test_runs_per_day_are_counted_by_status_for_the_tenant_only(seeded: tuple) -> None:
    north, _, _ = seeded
    got = runs.get_runs_per_bucket(actor=north.actor(Role.VIEWER), filters=period())
    assert [(b.bucket, b.status, b.runs) for b in got] == [
        (DAY1, RunStatus.FAILED, 1),
        (DAY1, RunStatus.SUCCEEDED, 2),
        (DAY2, RunStatus.DEAD, 1),
        (DAY2, RunStatus.QUEUED, 1),
        (DAY2, RunStatus.SUCCEEDED, 1),
    ]


def test_hourly_buckets_split_a_day_by_the_hour_the_run_was_created(seeded: tuple) -> None:
    north, _, _ = seeded
    f = build_filter(start=DAY1, end=DAY2, bucket="hour")
    got = runs.get_runs_per_bucket(actor=north.actor(Role.ADMIN), filters=f)
    assert [(b.bucket.hour, b.status, b.runs) for b in got] == [
        (10, RunStatus.SUCCEEDED, 1),
        (11, RunStatus.SUCCEEDED, 1),
        (12, RunStatus.FAILED, 1),
    ]


def test_run_summary_gives_success_rate_retries_dead_runs_and_duration_percentiles(
    seeded: tuple,
) -> None:
    north, _, _ = seeded
    s = runs.get_run_summary(actor=north.actor(Role.VIEWER), filters=period())
    assert s.total == 6
    assert s.by_status[RunStatus.SUCCEEDED] == 3 and s.by_status[RunStatus.QUEUED] == 1
    assert s.success_rate == approx(3 / 5)  # queued runs have not finished
    assert (s.retried_runs, s.retry_attempts, s.dead) == (2, 3, 1)
    # durations 1000, 2000, 3000, 4000, 5000 ms (the queued run has none)
    assert s.duration_p50_ms == approx(3000)
    assert s.duration_p95_ms == approx(4800)
    assert s.duration_p99_ms == approx(4960)


def test_previous_period_is_the_same_length_just_before(seeded: tuple) -> None:
    north, south, _ = seeded
    f = period()
    assert f.previous().start == DAY1 - timedelta(days=2) and f.previous().end == DAY1
    prev = runs.get_run_summary(actor=north.actor(Role.ADMIN), filters=f.previous())
    assert (prev.total, prev.success_rate, prev.duration_p50_ms) == (1, 1.0, 9000)
    other = runs.get_run_summary(actor=south.actor(Role.ADMIN), filters=f)
    assert (other.total, other.retry_attempts, other.duration_p50_ms) == (1, 4, 100_000)


def test_run_filters_narrow_by_agent_trigger_status_and_model(seeded: tuple) -> None:
    north, _, _ = seeded
    actor = north.actor(Role.ADMIN)
    assert runs.get_run_summary(actor=actor, filters=period(agent="sdr")).total == 4
    assert runs.get_run_summary(actor=actor, filters=period(trigger="manual")).total == 4
    assert runs.get_run_summary(actor=actor, filters=period(status="succeeded")).total == 3
    by_model = runs.get_run_summary(actor=actor, filters=period(model="qwen2.5"))
    assert by_model.total == 2 and by_model.dead == 1
    by_prompt = runs.get_run_summary(
        actor=actor, filters=period(prompt_key="sdr.outreach", prompt_version=2)
    )
    assert by_prompt.total == 2  # r2 and r3


def test_agent_run_stats_give_each_agents_success_rate_and_durations(seeded: tuple) -> None:
    north, _, _ = seeded
    got = runs.get_agent_run_stats(actor=north.actor(Role.ADMIN), filters=period())
    fin, sdr = got
    assert (fin.agent, fin.runs, fin.succeeded, fin.dead) == ("finance", 2, 1, 1)
    assert fin.success_rate == approx(0.5)
    assert (fin.duration_p50_ms, fin.duration_p95_ms) == (approx(4500), approx(4950))
    assert (sdr.agent, sdr.runs, sdr.succeeded, sdr.success_rate) == ("sdr", 4, 2, approx(2 / 3))
    assert (sdr.duration_p50_ms, sdr.duration_p99_ms) == (approx(2000), approx(2980))


def test_llm_stats_by_model_and_prompt_version_match_hand_computed_rates(seeded: tuple) -> None:
    north, _, _ = seeded
    rows = llm.get_llm_stats(actor=north.actor(Role.VIEWER), filters=period())
    key = [(r.model, r.prompt_key, r.prompt_version) for r in rows]
    assert key == [
        ("llama3.2", "sdr.outreach", 1),
        ("llama3.2", "sdr.outreach", 2),
        ("qwen2.5", "finance.dunning", 1),
        ("all", "all", None),
    ]
    v1, v2, qwen, total = rows
    assert (v1.calls, v1.latency_p50_ms, v1.latency_p95_ms) == (2, approx(2000), approx(2900))
    assert (v1.prompt_tokens, v1.completion_tokens, v1.tokens_per_second) == (110, 60, 15.0)
    assert (v2.calls, v2.latency_p50_ms, v2.latency_p95_ms) == (3, approx(3000), approx(3900))
    assert v2.tokens_per_second == approx(100 * 1000 / 9000)
    assert v2.repair_rate == approx(1 / 3) and v2.validation_failure_rate == approx(1 / 3)
    assert v2.reasks_per_call == approx(1.0) and (v2.timeouts, v2.unavailable) == (1, 0)
    assert (qwen.unavailable, qwen.latency_p95_ms, qwen.tokens_per_second) == (
        1,
        approx(1450),
        approx(150),
    )
    assert (total.calls, total.prompt_tokens, total.completion_tokens) == (7, 1110, 460)
    assert (total.latency_p50_ms, total.latency_p95_ms) == (approx(2000), approx(3700))
    assert total.reasks_per_call == approx(3 / 7) and total.repair_rate == approx(1 / 7)


def test_llm_stats_filtered_by_agent_leave_out_calls_outside_runs(seeded: tuple) -> None:
    north, _, _ = seeded
    rows = llm.get_llm_stats(actor=north.actor(Role.ADMIN), filters=period(agent="sdr"))
    assert [(r.prompt_version, r.calls) for r in rows] == [(1, 1), (2, 3), (None, 4)]


def test_latency_bands_per_day_give_p50_and_p95(seeded: tuple) -> None:
    north, _, _ = seeded
    got = llm.get_latency_per_bucket(actor=north.actor(Role.ADMIN), filters=period())
    assert [(b.bucket, b.calls) for b in got] == [(DAY1, 5), (DAY2, 2)]
    assert (got[0].p50_ms, got[0].p95_ms) == (approx(3000), approx(3800))
    assert (got[1].p50_ms, got[1].p95_ms) == (approx(1000), approx(1450))


def test_review_outcomes_per_agent_and_prompt_version(seeded: tuple) -> None:
    north, _, _ = seeded
    rows = reviews.get_review_outcomes(actor=north.actor(Role.VIEWER), filters=period())
    assert [(r.agent, r.prompt_key, r.prompt_version, r.drafts) for r in rows] == [
        ("finance", "finance.dunning", 1, 3),
        ("sdr", "none", None, 2),
        ("sdr", "sdr.outreach", 1, 2),
        ("sdr", "sdr.outreach", 2, 2),
    ]
    fin, unprompted, v1, v2 = rows
    assert (fin.approved_as_drafted, fin.edited_then_approved, fin.median_edit_distance) == (
        0,
        1,
        4,
    )
    assert (fin.rejected, fin.rejected_by_reason, fin.expired) == (1, {"wrong_facts": 1}, 1)
    assert fin.approval_rate == approx(1 / 3)
    assert (fin.decision_p50_s, fin.decision_p95_s) == (approx(9000), approx(13860))
    assert (unprompted.pending, unprompted.approval_rate, unprompted.decision_p50_s) == (
        2,
        None,
        None,
    )
    assert (v1.approved_as_drafted, v1.edited_then_approved, v1.median_edit_distance) == (
        1,
        0,
        None,
    )
    assert (v1.decision_p50_s, v1.decision_p95_s) == (approx(2100), approx(3450))
    assert (v2.edited_then_approved, v2.median_edit_distance, v2.rejected_by_reason) == (
        1,
        12,
        {"tone": 1},
    )
    assert reviews.rejection_reasons(rows) == {"tone": 2, "wrong_facts": 1}


def test_review_outcomes_follow_the_prompt_version_filter(seeded: tuple) -> None:
    north, _, _ = seeded
    f = period(prompt_key="sdr.outreach", prompt_version=2)
    rows = reviews.get_review_outcomes(actor=north.actor(Role.ADMIN), filters=f)
    assert [(r.prompt_version, r.drafts) for r in rows] == [(2, 2)]


def test_cost_per_approved_draft_uses_the_configured_prices(
    seeded: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    north, _, _ = seeded
    monkeypatch.setenv("REVO_METRICS_PRICE_PER_1K_TOKENS", "2.0")
    monkeypatch.setenv("REVO_METRICS_PRICE_PER_GPU_HOUR", "36")
    monkeypatch.setenv("REVO_METRICS_CURRENCY", "EUR")
    get_settings.cache_clear()
    try:
        rows = cost.get_cost_per_approved_draft(actor=north.actor(Role.VIEWER), filters=period())
    finally:
        for name in ("PRICE_PER_1K_TOKENS", "PRICE_PER_GPU_HOUR", "CURRENCY"):
            monkeypatch.delenv(f"REVO_METRICS_{name}")
        get_settings.cache_clear()
    fin, sdr, total = rows
    assert (fin.agent, fin.approved, fin.tokens, fin.model_seconds) == ("finance", 1, 900, 2.0)
    assert fin.cost_per_approved == approx(1.82) and fin.currency == "EUR"
    assert (sdr.approved, sdr.tokens, sdr.tokens_per_approved) == (2, 650, 325)
    assert sdr.model_seconds_per_approved == approx(5.0)
    assert sdr.cost == approx(1.4) and sdr.cost_per_approved == approx(0.7)
    assert (total.agent, total.approved, total.tokens) == ("all", 3, 1550)
    assert total.cost_per_approved == approx(3.22 / 3)


def test_queue_health_shows_pending_by_kind_age_overdue_and_throughput(seeded: tuple) -> None:
    north, south, _ = seeded
    h = queue.get_queue_health(actor=north.actor(Role.VIEWER), filters=period(), now=NOW)
    assert h.pending == 3
    assert h.pending_by_kind[ReviewKind.OUTREACH_EMAIL] == 2
    assert h.pending_by_kind[ReviewKind.DEAL_PROPOSAL] == 1
    assert h.age_bands == {"< 1 h": 1, "1-4 h": 0, "4-24 h": 0, "1-3 d": 1, "> 3 d": 1}
    assert h.overdue == 1
    assert h.oldest_pending_at == DAY1 - timedelta(days=2) + timedelta(hours=12)
    assert [(t.day, t.decisions, t.reviewers) for t in h.throughput] == [
        (DAY1, 4, 2),
        (DAY2, 2, 1),
    ]
    other = queue.get_queue_health(actor=south.actor(Role.VIEWER), filters=period(), now=NOW)
    assert (other.pending, other.overdue, other.throughput) == (1, 1, [])


def test_queue_health_is_narrowed_by_the_agent_and_model_filters(seeded: tuple) -> None:
    north, _, _ = seeded
    viewer = north.actor(Role.VIEWER)
    sdr = queue.get_queue_health(actor=viewer, filters=period(agent=AgentName.SDR), now=NOW)
    assert (sdr.pending, sdr.pending_by_kind[ReviewKind.DEAL_PROPOSAL], sdr.overdue) == (2, 0, 1)
    assert [(t.day, t.decisions, t.reviewers) for t in sdr.throughput] == [(DAY1, 4, 2)]
    qwen = queue.get_queue_health(actor=viewer, filters=period(model="qwen2.5"), now=NOW)
    assert (qwen.pending, qwen.oldest_pending_at) == (0, None)
    assert [(t.day, t.decisions, t.reviewers) for t in qwen.throughput] == [(DAY2, 2, 1)]


def test_dashboard_returns_every_aggregate_and_the_previous_period(seeded: tuple) -> None:
    north, _, _ = seeded
    d = dashboard.get_dashboard(actor=north.actor(Role.VIEWER), filters=period())
    assert d.summary.total == 6 and d.previous.total == 1
    assert len(d.runs_per_bucket) == 5 and len(d.agents) == 2 and len(d.llm) == 4
    assert len(d.latency) == 2 and len(d.reviews) == 4 and len(d.cost) == 3
    assert d.rejection_reasons == {"tone": 2, "wrong_facts": 1}
    before = d.previous_cost  # the day before: one sdr call of 2 tokens, nothing approved
    assert before is not None and (before.agent, before.tokens, before.approved) == ("all", 2, 0)
    assert before.cost_per_approved is None
    options = dashboard.get_filter_options(actor=north.actor(Role.VIEWER), filters=period())
    assert options.models == ["llama3.2", "qwen2.5"]
    assert [(p.prompt_key, p.version) for p in options.prompt_versions] == [
        ("finance.dunning", 1),
        ("sdr.outreach", 1),
        ("sdr.outreach", 2),
    ]


def test_an_empty_period_gives_zeros_and_no_percentiles(seeded: tuple) -> None:
    north, _, _ = seeded
    f = build_filter(start=END + timedelta(days=30), end=END + timedelta(days=31))
    d = dashboard.get_dashboard(actor=north.actor(Role.ADMIN), filters=f)
    assert d.summary.total == 0 and d.summary.success_rate is None
    assert d.summary.duration_p50_ms is None
    assert d.llm == [] and d.reviews == [] and d.cost == [] and d.latency == []


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"start": END, "end": DAY1}, "must be after its start"),
        ({"start": DAY1, "end": DAY1 + timedelta(days=40), "bucket": "hour"}, "at most 31"),
        ({"start": DAY1, "end": END, "bucket": "week"}, "bucket"),
        ({"start": DAY1, "end": END, "agent": "nobody"}, "agent"),
    ],
)
def test_a_bad_filter_is_refused_with_a_clear_message(values: dict, needle: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        build_filter(**values)
    assert needle in caught.value.message
