"""The investigation list: search and filters, keyset pages, and opening a new one."""

from __future__ import annotations

from datetime import UTC, datetime, time

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.moments import utc_moment
from services import forms
from services.actor import Actor
from services.investigations import query
from services.investigations import service as investigations
from services.investigations.dto import (
    InvestigationCreate,
    InvestigationFilter,
    InvestigationStatus,
    Priority,
    Severity,
)

CURSORS = "investigation_cursors"
OPEN_KEY = "investigation"


def _filters(users: dict[int, str]) -> InvestigationFilter:
    with st.expander("Search and filters", expanded=True):
        text = st.text_input("Search title and description", max_chars=200)
        a, b, c = st.columns(3)
        statuses = a.multiselect(
            "Status", list(InvestigationStatus), format_func=lambda s: s.value.replace("_", " ")
        )
        severities = b.multiselect("Severity", list(Severity), format_func=lambda s: s.value)
        assignee = c.selectbox(
            "Assignee", [0, *users], format_func=lambda i: users.get(i, "anyone")
        )
        service = a.text_input("Service", max_chars=100)
        tag = b.text_input("Tag", max_chars=40)
        dates = c.date_input("Detected between", value=[], format="YYYY-MM-DD")
    start = end = None
    if isinstance(dates, list | tuple) and len(dates) == 2:
        start = datetime.combine(dates[0], time.min, tzinfo=UTC)
        end = datetime.combine(dates[1], time.max, tzinfo=UTC)
    return InvestigationFilter(
        text=text or None,
        statuses=statuses,
        severities=severities,
        service=service or None,
        tag=tag or None,
        assignee_id=assignee or None,
        detected_from=start,
        detected_to=end,
    )


def render_list(actor: Actor, users: dict[int, str]) -> None:
    """Filters, one page of results with Open buttons, and previous/next page."""
    filters = _filters(users)
    signature = filters.model_dump_json()
    if st.session_state.get("investigation_filter") != signature:
        st.session_state["investigation_filter"] = signature
        st.session_state[CURSORS] = [None]
    cursors: list[str | None] = st.session_state.setdefault(CURSORS, [None])
    with service_errors():
        page = query.search(actor=actor, filters=filters, cursor=cursors[-1])
    total = f"{page.total:,}" + ("+" if page.total_capped else "")
    st.caption(f"{total} investigations match · page {len(cursors)}")
    for item in page.items:
        left, right = st.columns([6, 1])
        left.markdown(
            f"**#{item.id} {plain(item.title)}**  \n"
            + plain(
                f"{item.status.value.replace('_', ' ')} · {item.severity.value} · "
                f"{item.priority.value.upper()} · {item.service or 'no service'} · "
                f"{users.get(item.assignee_id or 0, 'unassigned')}"
            )
            + f" · detected {item.detected_at:%Y-%m-%d %H:%M} UTC"
        )
        if right.button("Open", key=f"open_{item.id}"):
            st.query_params[OPEN_KEY] = str(item.id)
            st.rerun()
    prev, nxt = st.columns(2)
    if len(cursors) > 1 and prev.button("Previous page"):
        cursors.pop()
        st.rerun()
    if page.next_cursor and nxt.button("Next page"):
        cursors.append(page.next_cursor)
        st.rerun()


def create_form(actor: Actor) -> None:
    """Open a new investigation."""
    with st.expander("Open a new investigation"), st.form("create_investigation"):
        title = st.text_input("Title", max_chars=300)
        a, b, c = st.columns(3)
        severity = a.selectbox("Severity", list(Severity), format_func=lambda s: s.value)
        priority = b.selectbox(
            "Priority", list(Priority), index=2, format_func=lambda p: p.value.upper()
        )
        service = c.text_input("Affected service", max_chars=100)
        detected = utc_moment("Detected", datetime.now(UTC), key="new_detected")
        description = st.text_area("What is happening")
        tags = st.text_input("Tags (comma separated)")
        if st.form_submit_button("Open investigation", type="primary"):
            if not title.strip():
                st.error("Give the investigation a title.")
                st.stop()
            with service_errors():
                investigation_in = forms.parse(
                    InvestigationCreate,
                    hint="Please check the fields: at most 20 tags, a service up to 100 "
                    "characters.",
                    title=title.strip(),
                    severity=severity,
                    priority=priority,
                    service=service.strip() or None,
                    description=description,
                    detected_at=detected,
                    tags=tags.split(","),
                )
            with service_errors():
                created = investigations.create(actor=actor, investigation_in=investigation_in)
            st.query_params[OPEN_KEY] = str(created.id)
            st.rerun()
