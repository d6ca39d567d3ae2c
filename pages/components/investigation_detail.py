"""One investigation: its status change (resolve needs a root cause), its fields, its notes."""

from __future__ import annotations

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.moments import utc_moment
from pages.components.when import local, zone
from services import forms, work
from services.actor import Actor
from services.ingest import quarantine
from services.investigations import service as investigations
from services.investigations.dto import (
    InvestigationRead,
    InvestigationStatus,
    InvestigationUpdate,
    Priority,
    Severity,
)


def header(item: InvestigationRead, users: dict[int, str]) -> None:
    """Title and the facts a person looks for first."""
    st.title(plain(f"#{item.id} {item.title}"))
    who = users.get(item.assignee_id, "unassigned") if item.assignee_id else "unassigned"
    st.caption(
        plain(
            f"{item.status.value.replace('_', ' ')} · {item.severity.value} · "
            f"{item.priority.value.upper()} · service {item.service or '—'}"
            f"{' / ' + item.component if item.component else ''} · {who} · "
            f"tags {', '.join(item.tags) or '—'}"
        )
        + f" · detected {local(item.detected_at, zone())}",
        help=f"detected {item.detected_at:%Y-%m-%d %H:%M} UTC",
    )
    if item.root_cause:
        st.info(f"**Root cause:** {plain(item.root_cause)}")


def hypotheses(actor: Actor, investigation_id: int) -> None:
    """The root-cause hypotheses drafted for this investigation and where their review stands."""
    with service_errors():
        drafts = work.subject_reviews(
            actor=actor, subject_type="investigation", subject_id=investigation_id
        )
    for d in drafts:
        if d.kind == "rca_hypothesis":
            st.warning(f"**Hypothesis #{d.id} ({d.status.value} review):** {plain(d.summary)}")


def status_form(actor: Actor, item: InvestigationRead) -> None:
    """Move the investigation on; resolving asks for the root cause."""
    options = investigations.next_statuses(status=item.status)
    with st.form("status_form"):
        target = st.selectbox("Move to", options, format_func=lambda s: s.value.replace("_", " "))
        cause = st.text_area("Root cause (needed to resolve)", value=item.root_cause or "")
        reason = st.text_input("Why (optional)")
        if st.form_submit_button("Change status", type="primary"):
            with service_errors():
                investigations.change_status(
                    actor=actor,
                    investigation_id=item.id,
                    version=item.row_version,
                    status=InvestigationStatus(target),
                    root_cause=cause,
                    reason=reason or None,
                )
            st.rerun()


def edit_form(actor: Actor, item: InvestigationRead, users: dict[int, str]) -> None:
    """Edit the fields; only what changed is saved (and audited)."""
    with st.form("edit_form"):
        title = st.text_input("Title", value=item.title, max_chars=300)
        description = st.text_area("Description", value=item.description or "")
        detected = utc_moment("Detected", item.detected_at, key="edit_detected")
        started = utc_moment("Started (empty if unknown)", item.started_at, key="edit_started")
        a, b, c = st.columns(3)
        severity = a.selectbox(
            "Severity",
            list(Severity),
            index=list(Severity).index(item.severity),
            format_func=lambda s: s.value,
        )
        priority = b.selectbox(
            "Priority",
            list(Priority),
            index=list(Priority).index(item.priority),
            format_func=lambda p: p.value.upper(),
        )
        ids = [0, *users]
        assignee = c.selectbox(
            "Assignee",
            ids,
            index=ids.index(item.assignee_id or 0),
            format_func=lambda i: users.get(i, "unassigned"),
        )
        service = a.text_input("Service", value=item.service or "", max_chars=100)
        component = b.text_input("Component", value=item.component or "", max_chars=100)
        tags = c.text_input("Tags (comma separated)", value=", ".join(item.tags))
        cause = st.text_area("Root cause", value=item.root_cause or "")
        remediation = st.text_area("Remediation", value=item.remediation or "")
        lessons = st.text_area("Lessons learned", value=item.lessons_learned or "")
        if st.form_submit_button("Save changes"):
            with service_errors():
                update = forms.parse(
                    InvestigationUpdate,
                    hint="Please check the fields: a title, at most 20 tags, names up to 100 "
                    "characters.",
                    version=item.row_version,
                    title=title.strip() or None,
                    description=description,
                    detected_at=detected,
                    started_at=started,
                    root_cause=cause.strip() or None,
                    severity=severity,
                    priority=priority,
                    assignee_id=assignee or None,
                    service=service.strip() or None,
                    component=component.strip() or None,
                    tags=tags.split(","),
                    remediation=remediation or None,
                    lessons_learned=lessons or None,
                )
            with service_errors():
                investigations.update(
                    actor=actor, investigation_id=item.id, investigation_in=update
                )
            st.rerun()


def notes(actor: Actor, item: InvestigationRead, *, can_edit: bool) -> None:
    """The append-only notes, and a box to add one (or a correction)."""
    with service_errors():
        existing = investigations.list_notes(actor=actor, investigation_id=item.id)
    for note in existing:
        fix = f" (corrects note #{note.corrects_note_id})" if note.corrects_note_id else ""
        st.markdown(
            f"**#{note.id} {plain(note.author_label)}** · "
            f"{local(note.created_at, zone())}{fix}  \n{plain(note.body)}"
        )
    if not existing:
        st.caption("No notes yet.")
    if can_edit:
        with st.form("note_form", clear_on_submit=True):
            body = st.text_area("New note")
            corrects = st.selectbox(
                "Corrects",
                [0] + [n.id for n in existing],
                format_func=lambda i: f"note #{i}" if i else "nothing",
            )
            if st.form_submit_button("Add note"):
                with service_errors():
                    investigations.add_note(
                        actor=actor,
                        investigation_id=item.id,
                        body=body,
                        corrects_note_id=corrects or None,
                    )
                st.rerun()


def timeline_note_form(actor: Actor, item: InvestigationRead) -> None:
    """Put a typed note on the timeline as a manual event."""
    with st.expander("Add a note to the timeline"), st.form("manual_event", clear_on_submit=True):
        title = st.text_input("What happened", max_chars=500)
        body = st.text_area("Details")
        if st.form_submit_button("Add to timeline"):
            if not title.strip():
                st.error("Say what happened.")
                st.stop()
            with service_errors():
                quarantine.add_manual_event(
                    actor=actor,
                    event_in=quarantine.ManualEventCreate(
                        title=title.strip(), body=body, service=item.service
                    ),
                )
            st.rerun()
