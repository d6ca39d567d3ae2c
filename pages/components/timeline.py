"""The investigation timeline: swimlanes by source, colour by severity, the event table."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.components.feedback import plain
from pages.components.literal import hover_text
from pages.components.tables import safe_dataframe
from services.actor import Actor
from services.errors import ServiceError
from services.investigations import query
from services.investigations.dto import TimelineWindow

SEVERITY_COLOURS = {
    "critical": "#b71c1c",
    "high": "#e65100",
    "medium": "#f9a825",
    "low": "#1e88e5",
    "info": "#90a4ae",
}
LANES = ["manual", "traces", "metrics", "logs", "ci", "git"]
LANE_INDEX = {name: i for i, name in enumerate(LANES)}
MARKERS = {"started": "#6a1b9a", "detected": "#c62828", "resolved": "#2e7d32"}
PAYLOAD_KEY = "timeline_payload_event"
SVG_MAX_POINTS = 2_000
EVENT_LINK = "event"
LINKED_EVENT = "timeline_linked_event"


def figure(window: TimelineWindow, markers: dict[str, datetime | None]) -> go.Figure:
    """Swimlanes by source, one trace per severity (so the legend explains the colours).

    Times, lanes and ids go to plotly as numpy arrays (sent as packed binary, not 10,000 JSON
    values each); the hover text is an object array, which plotly does not
    validate string by string (a plain list of 10,000 strings costs ~250 ms).
    """
    fig = go.Figure()
    # WebGL only where SVG would be slow: a browser without WebGL (remote desktops, locked-down
    # or headless browsers) shows a WebGL chart as an empty box with a warning.
    scatter = go.Scattergl if len(window.ids) > SVG_MAX_POINTS else go.Scatter
    millis = np.asarray(window.occurred_ms, dtype="float64")
    lanes = np.fromiter(
        (LANE_INDEX.get(s, 0) for s in window.sources), dtype="int8", count=len(window.ids)
    )
    ids = np.asarray(window.ids, dtype="int64")
    severities = np.asarray(window.severities)
    for severity, colour in SEVERITY_COLOURS.items():
        (idx,) = np.nonzero(severities == severity)
        if not len(idx):
            continue
        fig.add_trace(
            scatter(
                x=millis[idx],
                y=lanes[idx],
                mode="markers",
                name=severity,
                marker={"color": colour, "size": 10, "line": {"width": 0}},
                customdata=ids[idx],
                text=np.array(
                    [
                        f"#{window.ids[i]} {hover_text(window.titles[i][:120])}<br>"
                        + hover_text(f"{window.services[i] or 'no service'} · {window.types[i]}")
                        for i in idx
                    ],
                    dtype=object,
                ),
                hovertemplate="%{x|%Y-%m-%d %H:%M:%S}<br>%{text}<extra>%{fullData.name}</extra>",
            )
        )
    for label, when in markers.items():
        if when is None:
            continue
        at = when.timestamp() * 1000
        fig.add_vline(x=at, line_dash="dash", line_color=MARKERS[label], line_width=2)
        fig.add_annotation(
            x=at, y=1.06, yref="paper", text=label, showarrow=False, font={"color": MARKERS[label]}
        )
    fig.update_yaxes(
        tickvals=list(range(len(LANES))),
        ticktext=LANES,
        range=[-0.5, 5.5],
        title=None,
        fixedrange=True,
    )
    fig.update_layout(
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"title": "severity", "orientation": "h", "y": -0.15},
        dragmode="zoom",
        xaxis={
            "type": "date",
            "range": [window.start.timestamp() * 1000, window.end.timestamp() * 1000],
        },
    )
    return fig


def table(window: TimelineWindow) -> pd.DataFrame:
    """The same events as rows."""
    return pd.DataFrame(
        {
            "id": window.ids,
            "time (UTC)": pd.to_datetime(np.asarray(window.occurred_ms, dtype="int64"), unit="ms"),
            "source": window.sources,
            "type": window.types,
            "severity": window.severities,
            "service": window.services,
            "title": window.titles,
        }
    )


def render(actor: Actor, window: TimelineWindow, markers: dict[str, datetime | None]) -> None:
    """Chart, table and the payload of the event picked on the chart or by id."""
    shown = f"{len(window.ids):,} events" + (" (first ones only)" if window.truncated else "")
    st.caption(f"{shown} from {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC")
    picked = st.plotly_chart(
        figure(window, markers), on_select="rerun", selection_mode="points", key="timeline_chart"
    )
    points = picked.selection.points if picked and picked.selection else []
    if points and points[0].get("customdata") is not None:
        st.session_state[PAYLOAD_KEY] = int(points[0]["customdata"])
    safe_dataframe(table(window), hide_index=True, height=300)
    linked = st.query_params.get(EVENT_LINK)  # ?event=12: a hypothesis cited that event
    if linked and linked.isdigit() and st.session_state.get(LINKED_EVENT) != linked:
        st.session_state[LINKED_EVENT] = linked
        st.session_state[PAYLOAD_KEY] = min(int(linked), 2**53)
    event_id = st.number_input(
        "Show the full payload of event #",
        min_value=0,
        step=1,
        value=st.session_state.get(PAYLOAD_KEY, 0),
    )
    if event_id:
        try:
            event = query.get_event(actor=actor, event_id=int(event_id))
        except ServiceError as exc:  # a mistyped id: say so, and keep the rest of the page
            st.warning(f"**No payload to show.** {plain(exc.message)}")
            return
        st.markdown(f"**{plain(event.title)}**")
        st.caption(
            plain(f"#{event.id} · {event.source.value} · {event.type} · {event.severity.value}")
            + f" · occurred {event.occurred_at:%Y-%m-%d %H:%M:%S} UTC · ingested "
            f"{event.ingested_at:%Y-%m-%d %H:%M:%S} UTC · external id {plain(event.external_id)} · "
            f"sha256 {event.payload_hash[:16]}…"
        )
        st.json(event.data, expanded=True)
