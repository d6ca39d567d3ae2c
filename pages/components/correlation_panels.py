"""Suspect changes, suggestions and linked events, with accept and reject."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from pages.components.feedback import plain, service_errors
from services.actor import Actor
from services.investigations import correlation, dependencies
from services.investigations.correlation import Suggestion
from services.investigations.dto import EventSeverity

FLASH = "correlation_flash"


def _decide(
    actor: Actor, investigation_id: int, event_id: int, accept: bool, before: timedelta
) -> None:
    with service_errors():
        correlation.decide(
            actor=actor,
            investigation_id=investigation_id,
            event_id=event_id,
            accept=accept,
            before=before,  # the window it was shown in, so the stored score is the one seen
        )
    st.session_state[FLASH] = (
        "Accepted into the investigation." if accept else "Rejected; it won't come back."
    )
    st.rerun()


def _rows(
    actor: Actor,
    investigation_id: int,
    items: list[Suggestion],
    *,
    kind: str,
    can_edit: bool,
    before: timedelta,
) -> None:
    if not items:
        st.caption("Nothing to suggest in this window.")
        return
    for rank, item in enumerate(items, 1):
        e = item.event
        with st.container(border=True):
            left, right = st.columns([5, 1])
            left.markdown(
                f"**{rank}. {plain(e.title)}**  \n"
                f"{e.source.value} · {plain(e.type)} · {plain(e.service or 'no service')} · "
                f"{e.occurred_at:%Y-%m-%d %H:%M} UTC · event #{e.id}"
            )
            left.caption(f"score {item.score:.2f} — " + plain("; ".join(item.reasons)))
            right.metric("score", f"{item.score:.2f}", label_visibility="collapsed")
            if can_edit:
                b1, b2 = st.columns(2)
                if b1.button("Accept", key=f"{kind}_accept_{e.id}", icon=":material/check:"):
                    _decide(actor, investigation_id, e.id, True, before)
                if b2.button("Reject", key=f"{kind}_reject_{e.id}", icon=":material/close:"):
                    _decide(actor, investigation_id, e.id, False, before)


def dependency_form(actor: Actor, service: str, deps: list[str]) -> None:
    """Edit which services the affected service depends on (it widens the correlation)."""
    with st.form("dependencies"):
        text = st.text_input(plain(f"{service} depends on (comma separated)"), ", ".join(deps))
        if st.form_submit_button("Save dependencies"):
            with service_errors():
                dependencies.set_for(actor=actor, service=service, depends_on=text.split(","))
            st.rerun()


def render(actor: Actor, investigation_id: int, *, can_edit: bool) -> None:
    """The suspect changes, the suggestions and what was accepted so far."""
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH))
    a, b, c, d = st.columns(4)
    change_hours = a.number_input("Changes from hours before", 1, 24 * 14, 24, key="corr_changes")
    hours = b.number_input("Suggest from hours before", 1, 24 * 14, 6, key="corr_before")
    minutes = c.number_input("… to minutes after", 0, 24 * 60, 30, key="corr_after")
    floor = d.selectbox(
        "Lowest severity",
        list(reversed(EventSeverity)),  # info first: every event, then ever more severe
        format_func=lambda s: s.value,
        key="corr_sev",
    )
    changes_before, before = timedelta(hours=change_hours), timedelta(hours=hours)
    suspects_tab, suggestions_tab, linked_tab = st.tabs(
        ["Suspect changes", "Suggested events", "Accepted events"]
    )
    with service_errors():
        suspects = correlation.suspect_changes(
            actor=actor, investigation_id=investigation_id, before=changes_before
        )
        suggestions = correlation.suggest(
            actor=actor,
            investigation_id=investigation_id,
            before=before,
            after=timedelta(minutes=minutes),
            min_severity=floor,
        )
        linked = correlation.links(actor=actor, investigation_id=investigation_id)
    with suspects_tab:
        st.caption(
            f"Commits and deploys of the affected services in the {change_hours} h before "
            "detection, most suspect first."
        )
        _rows(actor, investigation_id, suspects, kind="suspect", can_edit=can_edit,
              before=changes_before)  # fmt: skip
    with suggestions_tab:
        st.caption(
            f"Events of severity {floor.value} or worse from {hours} h before to {minutes} min "
            "after detection, scored."
        )
        _rows(actor, investigation_id, suggestions, kind="suggestion", can_edit=can_edit,
              before=before)  # fmt: skip
    with linked_tab:
        if not linked:
            st.caption("No events accepted yet.")
        for link in linked:
            st.markdown(
                f"- **{plain(link.event.title)}** ({link.event.source.value}, "
                f"{link.event.occurred_at:%Y-%m-%d %H:%M} UTC) — score {link.score or 0:.2f}: "
                + plain("; ".join(link.reasons))
            )
