"""Suspect changes, suggestions and linked events, with accept and reject."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from pages.components.feedback import plain, service_errors
from services.actor import Actor
from services.investigations import correlation, dependencies, paths
from services.investigations.correlation import Suggestion
from services.investigations.dto import EventSeverity

FLASH = "correlation_flash"


def _decide(
    actor: Actor,
    investigation_id: int,
    event_id: int,
    accept: bool,
    before: timedelta,
    after: timedelta,
) -> None:
    with service_errors():
        correlation.decide(
            actor=actor,
            investigation_id=investigation_id,
            event_id=event_id,
            accept=accept,
            before=before,  # the window it was shown in, so the stored score is the one seen
            after=after,
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
    after: timedelta,
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
                + (" · stored suggestion" if item.stored else "")
            )
            left.caption(f"score {item.score:.2f} — " + plain("; ".join(item.reasons)))
            right.metric("score", f"{item.score:.2f}", label_visibility="collapsed")
            if can_edit:
                b1, b2 = st.columns(2)
                if b1.button("Accept", key=f"{kind}_accept_{e.id}", icon=":material/check:"):
                    _decide(actor, investigation_id, e.id, True, before, after)
                if b2.button("Reject", key=f"{kind}_reject_{e.id}", icon=":material/close:"):
                    _decide(actor, investigation_id, e.id, False, before, after)


def dependency_form(actor: Actor, service: str, deps: list[str]) -> None:
    """Edit which services the affected service depends on (it widens the correlation)."""
    with st.form("dependencies"):
        text = st.text_input(plain(f"{service} depends on (comma separated)"), ", ".join(deps))
        if st.form_submit_button("Save dependencies"):
            with service_errors():
                dependencies.set_for(actor=actor, service=service, depends_on=text.split(","))
            st.rerun()


def _decided(links: list[correlation.LinkRead], empty: str) -> None:
    if not links:
        st.caption(empty)
    for rank, link in enumerate(links, 1):
        e = link.event
        st.markdown(
            f"**{rank}. {plain(e.title)}** ({e.source.value}, {plain(e.service or 'no service')}, "
            f"{e.occurred_at:%Y-%m-%d %H:%M} UTC, event #{e.id}) — score {link.score or 0:.2f}: "
            + plain("; ".join(link.reasons))
            + (f"  \nNote: {plain(link.note)}" if link.note else "")
        )


def render(actor: Actor, investigation_id: int, *, can_edit: bool) -> None:
    """Every candidate in exactly one tab: suggested (changes, then signals), accepted, rejected."""
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH))
    a, b, c, d = st.columns(4)
    change_hours = a.number_input("Changes from hours before", 1, 24 * 14, 24, key="corr_changes")
    hours = b.number_input("Signals from hours before", 1, 24 * 14, 6, key="corr_before")
    minutes = c.number_input("… to minutes after", 0, 24 * 60, 30, key="corr_after")
    floor = d.selectbox(
        "Lowest severity of signals",
        list(reversed(EventSeverity)),  # info first: every event, then ever more severe
        format_func=lambda s: s.value,
        key="corr_sev",
    )
    before, after = timedelta(hours=change_hours), timedelta(minutes=minutes)
    with service_errors():
        found = correlation.board(
            actor=actor,
            investigation_id=investigation_id,
            changes_before=before,
            signals_before=timedelta(hours=hours),
            after=after,
            min_severity=floor,
        )
    suggested = len(found.changes) + len(found.signals)
    suggested_tab, accepted_tab, rejected_tab = st.tabs(
        [f"Suggested ({suggested})", f"Accepted ({len(found.accepted)})",
         f"Rejected ({len(found.rejected)})"]
    )  # fmt: skip
    with suggested_tab:
        reach = ", ".join(found.scope) or "no service named and no symptoms found"
        onset = found.onset_what or "no error spike or anomaly found; measured to detection"
        st.caption(plain(f"Services in reach: {reach}. Symptoms began: {onset}."))
        for note in found.notes:
            st.info(plain(note))
        st.markdown("**Suspect changes**")
        st.caption(
            f"Commits, builds and deploys from {change_hours} h before "
            + ("the symptoms began" if found.onset else "detection")
            + ", most suspect first."
        )
        _rows(actor, investigation_id, found.changes, kind="suspect", can_edit=can_edit,
              before=before, after=after)  # fmt: skip
        st.markdown("**Signals**")
        st.caption(
            f"Other events of severity {floor.value} or worse from {hours} h before to "
            f"{minutes} min after detection, scored."
        )
        _rows(actor, investigation_id, found.signals, kind="suggestion", can_edit=can_edit,
              before=before, after=after)  # fmt: skip
    with accepted_tab:
        _decided(found.accepted, "No events accepted yet.")
    with rejected_tab:
        _decided(found.rejected, "No events rejected.")


def paths_form(actor: Actor) -> None:
    """Edit which repository paths belong to which service (monorepos, config repositories)."""
    with service_errors():
        current = paths.get_map(actor=actor)
    with st.expander("Repository paths and their services"), st.form("service_paths"):
        text = st.text_area(
            "One per line: path prefix = service (a prefix may start with the repository)",
            "\n".join(f"{e.prefix} = {e.service}" for e in current),
            placeholder="services/auth/ = auth\nacme/platform-config/auth/ = auth",
        )
        if st.form_submit_button("Save paths"):
            with service_errors():
                paths.set_map(actor=actor, entries=paths.parse(text))
            st.rerun()
