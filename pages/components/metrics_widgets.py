"""Sidebar filters, KPI tiles and the queue-health fragment of the metrics page."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from pages.components import metrics_charts as charts
from pages.components.feedback import service_errors
from pages.components.when import local, zone
from services.actor import Actor
from services.metrics import dashboard, filters, queue
from services.metrics.cost import ApprovedDraftCost
from services.metrics.filters import MetricsFilter
from services.metrics.runs import RunSummary

ALL = "All"


def _pick(label: str, options: list[str]) -> str | None:
    choice = st.selectbox(label, [ALL, *options], key=f"metrics_{label}")
    return None if choice == ALL else choice


def sidebar_filter(actor: Actor) -> tuple[MetricsFilter, dashboard.FilterOptions]:
    """The filter chosen in the sidebar (stops the page while a date range is half-picked)."""
    tz = zone()
    # The same 30 days as Home's tiles, in the tenant's time zone.
    first_day, day_after = filters.calendar_days(30, tz=tz.key)
    with st.sidebar:
        st.subheader("Metrics filter")
        picked = st.date_input(
            f"Date range (days in {tz.key})",
            value=(
                first_day.astimezone(tz).date(),
                day_after.astimezone(tz).date() - timedelta(days=1),
            ),
            key="metrics_range",
            help=f"Whole days from midnight to midnight in {tz.key}, the tenant's time zone.",
        )
        if not isinstance(picked, tuple) or len(picked) != 2:
            st.info("Pick the last day of the range.")
            st.stop()
        first, last = picked
        assert isinstance(first, date) and isinstance(last, date)
        bucket = st.radio("Bucket", ["day", "hour"], horizontal=True, key="metrics_bucket")
        with service_errors():
            start, end = filters.day_range(first, last, tz=tz.key)
            options = dashboard.get_filter_options(
                actor=actor, filters=filters.build_filter(start=start, end=end, tz=tz.key)
            )
        agent = _pick("Agent", options.agents)
        model = _pick("Model", options.models)
        labels = {f"{p.prompt_key} v{p.version}": p for p in options.prompt_versions}
        prompt = _pick("Prompt version", list(labels))
        trigger = _pick("Trigger", options.triggers)
        status = _pick("Status", options.statuses)
    chosen = labels[prompt] if prompt else None
    with service_errors():
        f = filters.build_filter(
            start=start,
            end=end,
            bucket=bucket,
            agent=agent,
            model=model,
            prompt_key=chosen.prompt_key if chosen else None,
            prompt_version=chosen.version if chosen else None,
            trigger=trigger,
            status=status,
            tz=tz.key,
        )
    return f, options


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:.2f} s"


def _delta(now: float | None, before: float | None, scale: float = 1.0) -> float | None:
    if now is None or before is None:
        return None
    return round((now - before) * scale, 2)


def _cost_tile(
    now: ApprovedDraftCost | None, before: ApprovedDraftCost | None
) -> tuple[str, float | None]:
    """The cost per approved draft and its change; model time when no price is configured."""
    if now is None or now.cost_per_approved is None:
        return "-", None
    if now.cost:
        earlier = before.cost_per_approved if before else None
        change = None if earlier is None else round(now.cost_per_approved - earlier, 4)
        return f"{now.cost_per_approved:,.4f} {now.currency}", change
    seconds = now.model_seconds_per_approved or 0.0
    earlier = before.model_seconds_per_approved if before else None
    return f"{seconds:,.1f} s model time", _delta(seconds, earlier)


def kpi_tiles(
    now: RunSummary,
    before: RunSummary,
    cost: ApprovedDraftCost | None,
    cost_before: ApprovedDraftCost | None,
) -> None:
    """Run KPIs with their change against the previous period of the same length."""
    cols = st.columns(6)
    cols[0].metric("Runs", f"{now.total:,}", delta=now.total - before.total)
    cols[1].metric(
        "Success rate",
        _pct(now.success_rate),
        delta=_delta(now.success_rate, before.success_rate, 100),
        help="Succeeded out of runs that finished an attempt; delta in percentage points.",
    )
    cols[2].metric(
        "Dead runs", f"{now.dead:,}", delta=now.dead - before.dead, delta_color="inverse"
    )
    cols[3].metric(
        "Retries",
        f"{now.retry_attempts:,}",
        delta=now.retry_attempts - before.retry_attempts,
        delta_color="inverse",
    )
    p95_delta = _delta(now.duration_p95_ms, before.duration_p95_ms, 0.001)
    cols[4].metric(
        "p95 run duration", _ms(now.duration_p95_ms), delta=p95_delta, delta_color="inverse"
    )
    cost_label, cost_delta = _cost_tile(cost, cost_before)
    cols[5].metric("Cost per approved draft", cost_label, delta=cost_delta, delta_color="inverse")
    st.caption(
        f"Run duration p50 {_ms(now.duration_p50_ms)} · p99 {_ms(now.duration_p99_ms)} · "
        f"{now.retried_runs:,} runs needed a retry. Deltas compare with the previous period."
    )


def queue_health(actor: Actor, f: MetricsFilter, every: int) -> None:
    """Queue-health tiles and charts, refreshed on their own every ``every`` seconds."""

    @st.fragment(run_every=every)
    def _render() -> None:
        with service_errors():
            health = queue.get_queue_health(actor=actor, filters=f)
        st.subheader("Review queue health")
        cols = st.columns(4)
        cols[0].metric("Pending", f"{health.pending:,}")
        cols[1].metric("Overdue", f"{health.overdue:,}")
        oldest = health.oldest_pending_at
        age = "-" if oldest is None else f"{(health.as_of - oldest).total_seconds() / 3600:.1f} h"
        cols[2].metric("Oldest pending", age)
        decided = sum(t.decisions for t in health.throughput)
        cols[3].metric("Decisions in range", f"{decided:,}")
        kinds = ", ".join(
            f"{kind.value.replace('_', ' ')} {n}" for kind, n in health.pending_by_kind.items() if n
        )
        as_of = local(health.as_of, f.zone, "%H:%M:%S")
        st.caption(f"Pending by kind: {kinds or 'none'} · as of {as_of} · days in {f.tz}")
        left, right = st.columns(2)
        left.plotly_chart(charts.queue_ages(health), key="chart_queue_ages")
        right.plotly_chart(charts.throughput(health, f.zone), key="chart_throughput")

    _render()
