"""The daily rollups: triggers keep them equal to a full rebuild through inserts, updates and
deletes, and large periods read from them give the exact counts and percentiles within 3 %."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pytest import approx
from sqlalchemy import delete, text

from domain.enums import Role
from domain.models import LLMCall
from services import db, runs
from services.config import get_settings
from services.metrics import cost, dashboard, rollup_sql, rollups
from services.metrics.filters import build_filter
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.metrics_data import DAY1, END, Dataset, seed_metrics

Pair = tuple[TenantWithUsers, TenantWithUsers]
Seeded = tuple[TenantWithUsers, TenantWithUsers, Dataset]


@pytest.fixture
def seeded(two_tenants: Pair) -> Iterator[Seeded]:
    north, south = two_tenants
    yield north, south, seed_metrics(north, south)


def _snapshot() -> dict[str, list[tuple[Any, ...]]]:
    with db.current_engine().connect() as conn:
        out = {}
        for table in rollup_sql.TABLES:
            rows = conn.execute(text(f"SELECT * FROM {table}")).all()
            # Rows that were added and then taken away again count as nothing.
            out[table] = sorted(tuple(str(v) for v in r) for r in rows if r[-1] != 0)
        return out


def test_triggers_keep_the_rollups_equal_to_a_rebuild_through_every_kind_of_write(
    seeded: Seeded,
) -> None:
    north, _, data = seeded
    admin = north.actor(Role.ADMIN)
    runs.retry(actor=admin, run_id=data.runs["r3"])
    runs.cancel(actor=admin, run_id=data.runs["r6"])
    with UnitOfWork(None) as uow:
        uow.session.execute(delete(LLMCall).where(LLMCall.id == data.calls["c4"]))
        uow.commit()
    live = _snapshot()
    assert live["metric_run_days"] and live["metric_call_latency_days"]
    with db.current_engine().begin() as conn:
        rollup_sql.rebuild(conn)
    rebuilt = _snapshot()
    for table in rollup_sql.TABLES:
        assert (table, set(rebuilt[table]) ^ set(live[table])) == (table, set())


def test_a_large_period_reads_the_rollups_with_exact_counts_and_close_percentiles(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    north, _, _ = seeded
    actor = north.actor(Role.VIEWER)
    f = build_filter(start=DAY1, end=END)
    exact = dashboard.get_dashboard(actor=actor, filters=f)
    exact_cost = cost.get_cost_per_approved_draft(actor=actor, filters=f)
    monkeypatch.setenv("REVO_METRICS_EXACT_MAX_ROWS", "0")
    get_settings.cache_clear()
    try:
        with UnitOfWork(actor, readonly=True) as uow:
            assert rollups.for_runs(uow.session, north.tenant.id, f)
            assert rollups.for_calls(uow.session, north.tenant.id, f)
            assert rollups.for_reviews(uow.session, north.tenant.id, f)
            # not midnight-aligned, or filtered by trigger: computed from the raw rows
            unaligned = f.model_copy(update={"end": END.replace(hour=5)})
            by_trigger = build_filter(start=DAY1, end=END, trigger="manual")
            assert not rollups.for_runs(uow.session, north.tenant.id, unaligned)
            assert not rollups.for_calls(uow.session, north.tenant.id, by_trigger)
        est = dashboard.get_dashboard(actor=actor, filters=f)
        est_cost = cost.get_cost_per_approved_draft(actor=actor, filters=f)
    finally:
        monkeypatch.delenv("REVO_METRICS_EXACT_MAX_ROWS")
        get_settings.cache_clear()
    assert est.summary.estimated and not exact.summary.estimated
    strip = {"estimated", "duration_p50_ms", "duration_p95_ms", "duration_p99_ms"}
    assert est.summary.model_dump(exclude=strip) == exact.summary.model_dump(exclude=strip)
    for name in ("duration_p50_ms", "duration_p95_ms", "duration_p99_ms"):
        assert getattr(est.summary, name) == approx(getattr(exact.summary, name), rel=0.03)
    assert est.runs_per_bucket == exact.runs_per_bucket
    assert [a.model_dump(exclude=strip) for a in est.agents] == [
        a.model_dump(exclude=strip) for a in exact.agents
    ]
    lat = {"estimated", "latency_p50_ms", "latency_p95_ms"}
    assert [r.model_dump(exclude=lat) for r in est.llm] == [
        r.model_dump(exclude=lat) for r in exact.llm
    ]
    for e, x in zip(est.llm, exact.llm, strict=True):
        assert e.latency_p50_ms == approx(x.latency_p50_ms, rel=0.03)
        assert e.latency_p95_ms == approx(x.latency_p95_ms, rel=0.03)
    assert [(b.bucket, b.calls) for b in est.latency] == [
        (b.bucket, b.calls) for b in exact.latency
    ]
    for e, x in zip(est.latency, exact.latency, strict=True):
        assert e.p95_ms == approx(x.p95_ms, rel=0.03)
    assert est_cost == exact_cost
    timing = {"decision_p50_s", "decision_p95_s", "median_edit_distance"}
    assert [r.model_dump(exclude=timing) for r in est.reviews] == [
        r.model_dump(exclude=timing) for r in exact.reviews
    ]
    for e, x in zip(est.reviews, exact.reviews, strict=True):
        for name in timing:
            got, want = getattr(e, name), getattr(x, name)
            assert (got is None and want is None) or got == approx(want, rel=0.03), name
    options = dashboard.get_filter_options(actor=actor, filters=f)
    assert options.models == ["llama3.2", "qwen2.5"]


def test_rollups_of_one_tenant_never_count_in_another(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    north, south, _ = seeded
    f = build_filter(start=DAY1, end=END)

    def board(tenant: TenantWithUsers) -> tuple[Any, ...]:
        d = dashboard.get_dashboard(actor=tenant.actor(Role.ADMIN), filters=f)
        calls = sorted((r.model, r.prompt_key, r.calls) for r in d.llm)
        return d.summary.total, d.runs_per_bucket, calls, d.cost, d.summary.estimated

    exact = {t.tenant.id: board(t) for t in (north, south)}
    monkeypatch.setenv("REVO_METRICS_EXACT_MAX_ROWS", "0")  # every tenant reads the rollups
    get_settings.cache_clear()
    try:
        rolled = {t.tenant.id: board(t) for t in (north, south)}
    finally:
        monkeypatch.delenv("REVO_METRICS_EXACT_MAX_ROWS")
        get_settings.cache_clear()
    for tenant in (north, south):
        *counts, estimated = rolled[tenant.tenant.id]
        assert estimated and counts == list(exact[tenant.tenant.id][:-1]), tenant.tenant.slug
    assert rolled[north.tenant.id][0] != rolled[south.tenant.id][0]
