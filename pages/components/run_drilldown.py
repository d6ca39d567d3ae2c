"""The recent-runs table with CSV export, and the drill-down into one run."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.tables import safe_dataframe
from services import runs
from services.actor import Actor
from services.metrics import drilldown
from services.metrics.drilldown import RunRow

TABLE_COLUMNS = [
    "id",
    "agent",
    "trigger",
    "status",
    "attempts",
    "created_at",
    "duration_ms",
    "error",
]


def recent_runs(rows: list[RunRow]) -> None:
    """The table of recent runs, a CSV download and a preview of that CSV."""
    st.subheader("Recent runs")
    frame = pd.DataFrame([r.model_dump() for r in rows], columns=TABLE_COLUMNS)
    safe_dataframe(frame, hide_index=True, width="stretch")
    text = drilldown.runs_csv(rows)
    st.download_button(
        "Download CSV", data=text, file_name="runs.csv", mime="text/csv", icon=":material/download:"
    )
    with st.expander("Preview the CSV export"):
        st.code("\n".join(text.splitlines()[:21]), language=None)


def _label(row: RunRow) -> str:
    return f"Run #{row.id} · {row.agent} · {row.status} · {row.created_at:%Y-%m-%d %H:%M}"


def run_detail(actor: Actor, rows: list[RunRow]) -> None:
    """Pick a run; show its LLM calls and review items; retry or cancel it if allowed."""
    st.subheader("Run drill-down")
    if not rows:
        st.caption("No runs in this period.")
        return
    by_id = {r.id: r for r in rows}
    run_id = st.selectbox("Run", list(by_id), format_func=lambda i: _label(by_id[i]), key="run")
    with service_errors():
        detail = drilldown.get_run_detail(actor=actor, run_id=run_id)
    run = detail.run
    st.markdown(
        f"**{plain(_label(run))}** — trigger {plain(run.trigger)}, attempt {run.attempts} of "
        f"{run.max_attempts}"
    )
    if run.error:
        st.text(f"Error: {run.error}")
    _actions(actor, run)
    calls = pd.DataFrame(
        [c.model_dump(exclude={"raw_output"}) for c in detail.calls],
        columns=["id", "created_at", "model", "prompt_key", "prompt_version", "outcome",
                 "latency_ms", "prompt_tokens", "completion_tokens", "attempts", "reasks",
                 "repaired", "error"],
    )  # fmt: skip
    st.markdown(f"**LLM calls** ({len(detail.calls)})")
    safe_dataframe(calls, hide_index=True, width="stretch", key="llm_calls")
    for call in detail.calls:
        if call.raw_output is not None:
            st.caption(plain(f"Raw output of failed call #{call.id} ({call.outcome})"))
            st.text(call.raw_output)
    items = pd.DataFrame(
        [i.model_dump() for i in detail.review_items],
        columns=["id", "kind", "status", "subject_label", "created_at", "decided_at",
                 "decided_by", "reason_code", "edit_distance", "comment"],
    )  # fmt: skip
    st.markdown(f"**Review items it produced** ({len(detail.review_items)})")
    safe_dataframe(items, hide_index=True, width="stretch", key="run_items")


def _actions(actor: Actor, run: RunRow) -> None:
    agent, status = runs.AgentName(run.agent), runs.RunStatus(run.status)
    retryable = runs.can_retry(actor=actor, agent=agent, status=status)
    if retryable and st.button("Retry run", icon=":material/replay:"):
        with service_errors():
            runs.retry(actor=actor, run_id=run.id, expected_version=run.row_version)
        st.toast(f"Run #{run.id} will be retried.")
        st.rerun()
    cancellable = runs.can_cancel(actor=actor, agent=agent, status=status)
    if cancellable and st.button("Cancel run", icon=":material/cancel:"):
        with service_errors():
            runs.cancel(actor=actor, run_id=run.id, expected_version=run.row_version)
        st.toast(f"Run #{run.id} was cancelled.")
        st.rerun()
