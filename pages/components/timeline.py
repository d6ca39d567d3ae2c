"""The investigation timeline: swimlanes by source, colour by severity, the event table."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from pages.components.feedback import plain
from pages.components.literal import hover_text
from pages.components.tables import safe_dataframe
from pages.components.when import local, zone
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


def _wall_ms(millis: np.ndarray, tz: ZoneInfo) -> np.ndarray:
    """Epoch milliseconds moved to the zone's wall clock (each by its own offset, so a window
    across a DST change stays right): Plotly draws dates as given, with no time zone."""
    if tz.key == "UTC" or not len(millis):
        return millis
    moments = pd.to_datetime(millis.astype("int64"), unit="ms", utc=True).tz_convert(tz)
    wall = moments.tz_localize(None) - pd.Timestamp("1970-01-01")
    return np.asarray(wall // pd.Timedelta(milliseconds=1), dtype="float64")


def _wall_at(when: datetime, tz: ZoneInfo) -> float:
    moment = when if when.tzinfo else when.replace(tzinfo=UTC)
    return float(_wall_ms(np.asarray([moment.timestamp() * 1000]), tz)[0])


def figure(
    window: TimelineWindow, markers: dict[str, datetime | None], tz: ZoneInfo | None = None
) -> go.Figure:
    """Swimlanes by source, one trace per severity (so the legend explains the colours).

    Times, lanes and ids go to plotly as numpy arrays (sent as packed binary, not 10,000 JSON
    values each); the hover text is an object array, which plotly does not
    validate string by string (a plain list of 10,000 strings costs ~250 ms).
    """
    tz = tz or ZoneInfo("UTC")
    fig = go.Figure()
    # WebGL only where SVG would be slow: a browser without WebGL (remote desktops, locked-down
    # or headless browsers) shows a WebGL chart as an empty box with a warning.
    scatter = go.Scattergl if len(window.ids) > SVG_MAX_POINTS else go.Scatter
    millis = _wall_ms(np.asarray(window.occurred_ms, dtype="float64"), tz)
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
                hovertemplate=(
                    "%{x|%Y-%m-%d %H:%M:%S} "
                    + hover_text(tz.key)
                    + "<br>%{text}<extra>%{fullData.name}</extra>"
                ),
            )
        )
    for label, when in markers.items():
        if when is None:
            continue
        at = _wall_at(when, tz)
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
            "range": [_wall_at(window.start, tz), _wall_at(window.end, tz)],
            "title": f"time ({tz.key})",
        },
    )
    return fig


def table(window: TimelineWindow, tz: ZoneInfo | None = None) -> pd.DataFrame:
    """The same events as rows, at the tenant's wall-clock time."""
    tz = tz or ZoneInfo("UTC")
    millis = _wall_ms(np.asarray(window.occurred_ms, dtype="float64"), tz).astype("int64")
    return pd.DataFrame(
        {
            "id": window.ids,
            f"time ({tz.key})": pd.to_datetime(millis, unit="ms"),
            "source": window.sources,
            "type": window.types,
            "severity": window.severities,
            "service": window.services,
            "title": window.titles,
        }
    )


def render(actor: Actor, window: TimelineWindow, markers: dict[str, datetime | None]) -> None:
    """Chart, table and the payload of the event picked on the chart or by id."""
    tz = zone()
    shown = f"{len(window.ids):,} events" + (" (first ones only)" if window.truncated else "")
    st.caption(
        f"{shown} from {local(window.start, tz)} to {local(window.end, tz)}",
        help=f"{window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC",
    )
    picked = st.plotly_chart(
        figure(window, markers, tz),
        on_select="rerun",
        selection_mode="points",
        key="timeline_chart",
    )
    points = picked.selection.points if picked and picked.selection else []
    if points and points[0].get("customdata") is not None:
        st.session_state[PAYLOAD_KEY] = int(points[0]["customdata"])
    safe_dataframe(table(window, tz), hide_index=True, height=300)
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
            + f" · occurred {local(event.occurred_at, tz, '%Y-%m-%d %H:%M:%S')}"
            f" ({event.occurred_at:%H:%M:%S} UTC) · ingested "
            f"{local(event.ingested_at, tz, '%Y-%m-%d %H:%M:%S')} · external id "
            f"{plain(event.external_id)} · "
            f"sha256 {event.payload_hash[:16]}…"
        )
        st.json(event.data, expanded=True)
