"""Totals of a period that is not whole UTC days (a Berlin tenant's local days) from the rollups
over the whole UTC days inside it plus the raw rows of its two partial edges: counts and sums
equal the raw-only figures exactly, percentiles equal the rollups' histogram estimate of the same
rows, with rows just inside, just outside and exactly on every boundary."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domain.enums import Role
from domain.models import AgentRun, LLMCall, ReviewItem
from domain.models.metrics import HISTOGRAM_BASE
from services import db
from services.config import get_settings
from services.metrics import cost, filters, hybrid, llm, reviews, rollup_sql, rollups, runs
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.zone_support import place, set_zone

BERLIN = "Europe/Berlin"
US = timedelta(microseconds=1)
# first and last local day of the period: winter (+1 h), and over the switch to summer time
PERIODS = {
    "winter": (date(2026, 1, 10), date(2026, 1, 13)),
    "into summer time": (date(2026, 3, 27), date(2026, 3, 30)),
}
LATENCY, DURATION, WAIT = (0.5, 0.95), (0.5, 0.95, 0.99), (0.5, 0.95)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"REVO_{name.upper()}", value)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def _moments(start: datetime, end: datetime) -> list[datetime]:
    """Rows on and beside every boundary: the period's, and the UTC midnights inside it."""
    whole, edges = hybrid.split(filters.build_filter(start=start, end=end)) or (None, [])
    assert whole is not None and len(edges) == 2
    ceil, floor = whole.start, whole.end
    return [
        start - US, start, start + timedelta(minutes=7), ceil - US,  # first edge
        ceil, ceil + timedelta(hours=30), floor - US,  # whole UTC days
        floor, floor + timedelta(minutes=59), end - US, end, end + US,  # last edge, then out
    ]  # fmt: skip


def _spread(tenant_id: int) -> None:
    """Give every row its own latency, duration, edit distance and wait (rollups follow)."""
    with UnitOfWork(None) as uow:
        s = uow.session
        calls = s.scalars(select(LLMCall).where(LLMCall.tenant_id == tenant_id)).all()
        for n, call in enumerate(sorted(calls, key=lambda c: c.id)):
            call.latency_ms = 90 * (n + 1) ** 2
            call.prompt_version = 1 + n % 2
        items = s.scalars(select(ReviewItem).where(ReviewItem.tenant_id == tenant_id)).all()
        for n, item in enumerate(sorted(items, key=lambda i: i.id)):
            item.edit_distance = 3 * n if n % 3 else None
            item.decided_at = item.created_at + timedelta(seconds=40 * (n + 1) ** 2)
        for n, run in enumerate(s.scalars(select(AgentRun).where(AgentRun.tenant_id == tenant_id))):
            run.duration_ms = 700 + 260 * n * n
        uow.commit()
    # A draft's prompt version is its run's when the draft was written: rebuild so the rollups
    # hold exactly the raw rows (the triggers' upkeep is tested in test_metric_rollups.py).
    with db.current_engine().begin() as conn:
        rollup_sql.rebuild(conn)


def _bin(value: float) -> int:
    return math.floor(math.log(max(value, 1)) / math.log(HISTOGRAM_BASE))


def _estimate(values: Sequence[float], fractions: Sequence[float]) -> list[float | None]:
    bins: dict[int, int] = {}
    for v in values:
        bins[_bin(v)] = bins.get(_bin(v), 0) + 1
    return rollups.percentiles(bins.items(), fractions)


def _figures(actor: Any, f: filters.MetricsFilter) -> dict[str, Any]:
    return {
        "llm": llm.get_llm_stats(actor=actor, filters=f),
        "cost": cost.get_cost_per_approved_draft(actor=actor, filters=f),
        "summary": runs.get_run_summary(actor=actor, filters=f),
        "agents": runs.get_agent_run_stats(actor=actor, filters=f),
        "reviews": reviews.get_review_outcomes(actor=actor, filters=f),
    }


ESTIMATES = {
    "latency_p50_ms", "latency_p95_ms", "duration_p50_ms", "duration_p95_ms", "duration_p99_ms",
    "median_edit_distance", "decision_p50_s", "decision_p95_s", "estimated",
}  # fmt: skip


def _exact(figures: dict[str, Any]) -> dict[str, Any]:
    def plain(x: Any) -> Any:
        return x.model_dump(exclude=ESTIMATES)

    return {
        k: [plain(x) for x in v] if isinstance(v, list) else plain(v) for k, v in figures.items()
    }


def _in_period(tenant_id: int, start: datetime, end: datetime) -> dict[str, list[Any]]:
    with UnitOfWork(None) as uow:
        s = uow.session

        def rows(model: Any) -> list[Any]:
            return list(
                s.scalars(
                    select(model).where(
                        model.tenant_id == tenant_id,
                        model.created_at >= start,
                        model.created_at < end,
                    )
                )
            )

        return {
            "latency": [c.latency_ms for c in rows(LLMCall)],
            "duration": [r.duration_ms for r in rows(AgentRun)],
        }


@pytest.mark.parametrize("period", list(PERIODS))
def test_hybrid_totals_equal_the_raw_totals_exactly(
    two_tenants: tuple[TenantWithUsers, TenantWithUsers], settings: Any, period: str
) -> None:
    north, south = two_tenants
    set_zone(north.tenant.id, BERLIN)
    start, end = filters.day_range(*PERIODS[period], tz=BERLIN)
    assert start.astimezone(UTC).hour != 0  # local midnight is not a UTC midnight
    moments = _moments(start, end)
    place(north, moments)
    place(south, moments, tag="s")  # another tenant: never counted here
    _spread(north.tenant.id)
    actor = north.actor(Role.ADMIN)
    f = filters.build_filter(start=start, end=end)

    settings(metrics_rollups="false")
    raw = _figures(actor, f)
    settings(metrics_rollups="true", metrics_exact_max_rows="0")
    mixed = _figures(actor, f)

    assert raw["summary"].total == 9 and raw["llm"][-1].calls == 9  # 12 moments, 9 inside
    assert _exact(mixed) == _exact(raw)
    assert mixed["summary"].estimated and mixed["llm"][-1].estimated  # read from the rollups
    assert not raw["summary"].estimated
    values = _in_period(north.tenant.id, start, end)
    overall = mixed["llm"][-1]
    assert [overall.latency_p50_ms, overall.latency_p95_ms] == _estimate(values["latency"], LATENCY)
    summary = mixed["summary"]
    assert [summary.duration_p50_ms, summary.duration_p95_ms, summary.duration_p99_ms] == (
        _estimate(values["duration"], DURATION)
    )
    assert [mixed["agents"][0].duration_p50_ms] == _estimate(values["duration"], (0.5,))
    # one agent and prompt key; drafts under their run's prompt version (1 or 2)
    waits = {r.prompt_version: [r.decision_p50_s, r.decision_p95_s] for r in mixed["reviews"]}
    edits = {r.prompt_version: r.median_edit_distance for r in mixed["reviews"]}
    by_version = _by_version(north.tenant.id, start, end)
    assert waits == {v: _estimate(w, WAIT) for v, (w, _) in by_version.items()}
    assert edits == {v: _estimate(e, (0.5,))[0] for v, (_, e) in by_version.items()}


def _by_version(
    tenant_id: int, start: datetime, end: datetime
) -> dict[int, tuple[list[float], list[float]]]:
    """Per prompt version of the draft's run: its waits and its edit distances."""
    with UnitOfWork(None) as uow:
        s = uow.session
        found = s.execute(
            select(ReviewItem, LLMCall.prompt_version)
            .join(LLMCall, LLMCall.run_id == ReviewItem.run_id)
            .where(
                ReviewItem.tenant_id == tenant_id,
                ReviewItem.created_at >= start,
                ReviewItem.created_at < end,
            )
        ).all()
        out: dict[int, tuple[list[float], list[float]]] = {}
        for item, version in found:
            waits, edits = out.setdefault(version, ([], []))
            waits.append((item.decided_at - item.created_at).total_seconds())
            if item.edit_distance:
                edits.append(float(item.edit_distance))
        return out
