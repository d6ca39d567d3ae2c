"""Plotly figures of the metrics page, built from the metrics service's DTOs.

Time axes show the tenant's wall-clock time: Plotly draws dates as given, so every bucket is
turned into the local time it starts at (without its offset) before it is plotted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import plotly.graph_objects as go

from pages.components.literal import hover_text
from services.metrics.llm import LatencyBucket
from services.metrics.queue import QueueHealth
from services.metrics.runs import RunBucket

STATUS_COLOURS = {
    "succeeded": "#2e7d32",
    "running": "#1565c0",
    "queued": "#90a4ae",
    "retrying": "#f9a825",
    "failed": "#ef6c00",
    "dead": "#c62828",
    "cancelled": "#616161",
}


def _layout(fig: go.Figure, title: str, y_title: str) -> go.Figure:
    fig.update_layout(
        title=title,
        yaxis_title=y_title,
        height=320,
        margin={"l": 40, "r": 10, "t": 50, "b": 30},
        legend={"orientation": "h", "y": -0.2},
    )
    if not fig.data:
        fig.add_annotation(text="No data in this period", showarrow=False, x=0.5, y=0.5)
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
    return fig


def _wall(moment: datetime, tz: ZoneInfo) -> datetime:
    """The local time a bucket starts at, as Plotly reads it (no offset)."""
    return moment.astimezone(tz).replace(tzinfo=None)


def runs_by_status(buckets: Sequence[RunBucket], tz: ZoneInfo) -> go.Figure:
    """Stacked bars: runs per bucket, one colour per status."""
    fig = go.Figure()
    for status, colour in STATUS_COLOURS.items():
        rows = [b for b in buckets if b.status.value == status]
        if rows:
            fig.add_bar(
                x=[_wall(b.bucket, tz) for b in rows],
                y=[b.runs for b in rows],
                name=status,
                marker_color=colour,
            )
    fig.update_layout(barmode="stack")
    return _layout(fig, "Runs by status", "runs")


def runs_and_success(buckets: Sequence[RunBucket], tz: ZoneInfo) -> go.Figure:
    """Time series: runs per bucket and the success rate of finished runs."""
    totals: dict[datetime, int] = {}
    ok: dict[datetime, int] = {}
    finished: dict[datetime, int] = {}
    for b in buckets:
        totals[b.bucket] = totals.get(b.bucket, 0) + b.runs
        if b.status.value in ("succeeded", "failed", "retrying", "dead"):
            finished[b.bucket] = finished.get(b.bucket, 0) + b.runs
        if b.status.value == "succeeded":
            ok[b.bucket] = ok.get(b.bucket, 0) + b.runs
    fig = go.Figure()
    if totals:
        xs = sorted(totals)
        local = [_wall(x, tz) for x in xs]
        fig.add_scatter(x=local, y=[totals[x] for x in xs], name="runs", mode="lines+markers")
        rates = [100.0 * ok.get(x, 0) / finished[x] if finished.get(x) else None for x in xs]
        fig.add_scatter(x=local, y=rates, name="success %", yaxis="y2", mode="lines")
        fig.update_layout(yaxis2={"overlaying": "y", "side": "right", "range": [0, 100]})
    return _layout(fig, "Runs and success rate over time", "runs")


def latency_bands(buckets: Sequence[LatencyBucket], tz: ZoneInfo) -> go.Figure:
    """LLM latency p50 line with the band up to p95."""
    fig = go.Figure()
    if buckets:
        xs = [_wall(b.bucket, tz) for b in buckets]
        fig.add_scatter(x=xs, y=[b.p50_ms for b in buckets], name="p50", mode="lines")
        fig.add_scatter(
            x=xs, y=[b.p95_ms for b in buckets], name="p95", mode="lines", fill="tonexty"
        )
    return _layout(fig, "LLM latency percentiles", "ms")


def rejection_reasons(reasons: dict[str, int]) -> go.Figure:
    """Horizontal bars: rejected drafts by reason code."""
    fig = go.Figure()
    if reasons:
        names = list(reasons)[::-1]
        fig.add_bar(
            x=[reasons[n] for n in names],
            y=[hover_text(n) for n in names],  # tick labels render Plotly's HTML subset
            orientation="h",
            name="rejected",
        )
    return _layout(fig, "Rejections by reason", "reason")


def queue_ages(health: QueueHealth) -> go.Figure:
    """Bars: pending review items by age."""
    fig = go.Figure()
    if health.pending:
        fig.add_bar(x=list(health.age_bands), y=list(health.age_bands.values()), name="pending")
    return _layout(fig, "Pending items by age", "items")


THROUGHPUT_HOVER = "%{x|%Y-%m-%d}: %{y} decisions by %{customdata} reviewers<extra></extra>"


def throughput(health: QueueHealth, tz: ZoneInfo) -> go.Figure:
    """Bars: review decisions per day, with how many people made them."""
    fig = go.Figure()
    if health.throughput:
        fig.add_bar(
            x=[_wall(t.day, tz) for t in health.throughput],
            y=[t.decisions for t in health.throughput],
            name="decisions",
            customdata=[t.reviewers for t in health.throughput],
            hovertemplate=THROUGHPUT_HOVER,
        )
    return _layout(fig, "Reviewer throughput per day", "decisions")
