"""Investigations: the list, and one investigation's timeline, suspects, status and notes."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from pages.components import (
    correlation_panels,
    ingest_panel,
    investigation_detail,
    run_buttons,
    timeline,
)
from pages.components.feedback import service_errors
from pages.components.investigation_list import OPEN_KEY, create_form, render_list
from pages.components.session import current_user
from services import auth
from services.auth import Action
from services.investigations import dependencies, query
from services.investigations import service as investigations
from services.investigations.dto import EventSource

user = current_user()
actor = user.actor
can_edit = auth.can_do(actor=actor, action=Action.EDIT_INVESTIGATION)
can_ingest = auth.can_do(actor=actor, action=Action.INGEST_EVENTS)
with service_errors():
    users = {u.id: u.label for u in investigations.assignable_users(actor=actor)}

raw_id = st.query_params.get(OPEN_KEY)
if not raw_id or not raw_id.isdigit():
    st.title("Investigations")
    if can_edit:
        create_form(actor)
    render_list(actor, users)
    if can_ingest:
        st.divider()
        ingest_panel.render(actor)
    st.stop()

with service_errors():
    item = investigations.get(actor=actor, investigation_id=int(raw_id))
    deps = dependencies.list_all(actor=actor).get(item.service or "", [])
if st.button("All investigations", icon=":material/arrow_back:"):
    del st.query_params[OPEN_KEY]
    st.rerun()
investigation_detail.header(item, users)
run_buttons.buttons(actor, "investigation", item.id)
run_buttons.progress(actor)
investigation_detail.hypotheses(actor, item.id)

st.subheader("Timeline")
a, b, c, d = st.columns([1, 1, 2, 2])
hours_before = a.number_input("Hours before detection", 1, 24 * 14, 6)
default_after = (
    2
    if item.resolved_at is None
    else 1 + int((item.resolved_at - item.detected_at).total_seconds() // 3600)
)
hours_after = b.number_input("Hours after detection", 0, 24 * 14, min(default_after, 24 * 14))
sources = c.multiselect("Sources", list(EventSource), format_func=lambda s: s.value)
scope = [s for s in [item.service, *deps] if s]
services = d.text_input("Services (comma separated, empty for all)", ", ".join(scope))
with service_errors():
    window = query.timeline(
        actor=actor,
        start=item.detected_at - timedelta(hours=int(hours_before)),
        end=item.detected_at + timedelta(hours=int(hours_after)),
        services=[s.strip() for s in services.split(",") if s.strip()] or None,
        sources=sources or None,
    )
markers = {"started": item.started_at, "detected": item.detected_at, "resolved": item.resolved_at}
timeline.render(actor, window, markers)
if can_edit:
    investigation_detail.timeline_note_form(actor, item)

st.subheader("What changed before it broke")
correlation_panels.render(actor, item.id, can_edit=can_edit)
if can_edit and item.service:
    correlation_panels.dependency_form(actor, item.service, deps)
if can_edit:
    correlation_panels.paths_form(actor)

if can_edit:
    st.subheader("Status")
    investigation_detail.status_form(actor, item)
    with st.expander("Edit details"):
        investigation_detail.edit_form(actor, item, users)
st.subheader("Notes")
investigation_detail.notes(actor, item, can_edit=can_edit)
