"""Run metrics: what the agents cost, how well they do, and where the review queue is stuck."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from pages.components import metrics_charts as charts
from pages.components.feedback import plain, service_errors
from pages.components.metrics_widgets import kpi_tiles, queue_health, sidebar_filter
from pages.components.run_drilldown import recent_runs, run_detail
from pages.components.session import current_user
from pages.components.tables import safe_dataframe
from services.metrics import dashboard, drilldown

user = current_user()
actor = user.actor
st.title("Run metrics")

f, options = sidebar_filter(actor)
with service_errors():
    board = dashboard.get_dashboard(actor=actor, filters=f)
    runs = drilldown.list_recent_runs(actor=actor, filters=f)
tz = board.filters.zone  # the tenant's zone, as the service counted the days
first, day_after = f.start.astimezone(tz).date(), f.end.astimezone(tz).date()
st.caption(
    f"{plain(user.tenant_name)} · {first:%Y-%m-%d} to {day_after - timedelta(days=1):%Y-%m-%d}, "
    f"days in {tz.key} · by {f.bucket}"
    + (
        " · percentiles estimated from daily rollups (within 2.5 %)"
        if board.summary.estimated
        else ""
    )
)

overall = next((c for c in board.cost if c.agent == "all"), None)
kpi_tiles(board.summary, board.previous, overall, board.previous_cost)

left, right = st.columns(2)
left.plotly_chart(charts.runs_and_success(board.runs_per_bucket, tz), key="chart_runs_time")
right.plotly_chart(charts.runs_by_status(board.runs_per_bucket, tz), key="chart_runs_status")
left, right = st.columns(2)
left.plotly_chart(charts.latency_bands(board.latency, tz), key="chart_latency")
right.plotly_chart(charts.rejection_reasons(board.rejection_reasons), key="chart_rejections")

st.subheader("LLM calls by model and prompt version")
safe_dataframe(pd.DataFrame([r.model_dump() for r in board.llm]), hide_index=True, key="table_llm")
st.subheader("Review outcomes by agent and prompt version")
safe_dataframe(
    pd.DataFrame(
        [r.model_dump() | {"rejected_by_reason": str(r.rejected_by_reason)} for r in board.reviews]
    ),
    hide_index=True,
    key="table_reviews",
)
st.subheader("Cost per approved draft")
safe_dataframe(
    pd.DataFrame([c.model_dump() for c in board.cost]), hide_index=True, key="table_cost"
)
st.subheader("Runs by agent")
safe_dataframe(
    pd.DataFrame([a.model_dump() for a in board.agents]), hide_index=True, key="table_agents"
)

queue_health(actor, f, options.refresh_seconds)
recent_runs(runs)
run_detail(actor, runs)
