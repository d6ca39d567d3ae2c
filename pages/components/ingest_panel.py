"""The ingest panel: upload a file or point at a path, see the quarantine and connector health."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.tables import safe_dataframe
from services.actor import Actor
from services.ingest import quarantine
from services.ingest import service as ingest
from services.ingest.service import IngestReport

SOURCES = ["logs", "metrics", "traces", "ci"]
FLASH = "quarantine_flash"


def _report(report: IngestReport) -> None:
    st.success(
        plain(
            f"{report.source.value} · {report.origin}: {report.records:,} records read, "
            f"{report.inserted:,} new events, {report.duplicates:,} already stored, "
            f"{report.quarantined:,} quarantined, {report.skipped:,} made no event "
            f"({report.seconds:.2f} s)"
        )
    )


def _ingest_forms(actor: Actor) -> None:
    upload_tab, path_tab = st.tabs(["Upload a file", "File or repository path"])
    with upload_tab, st.form("ingest_upload", clear_on_submit=True):
        source = st.selectbox("Kind", SOURCES, key="upload_source")
        service = st.text_input("Service (for JUnit reports)", max_chars=100, key="upload_svc")
        file = st.file_uploader("File", type=["log", "jsonl", "json", "csv", "xml", "txt"])
        if st.form_submit_button("Ingest upload") and file is not None:
            with service_errors():
                _report(
                    ingest.ingest_upload(
                        actor=actor,
                        source=ingest.EventSource(source),
                        filename=file.name,
                        content=file,
                        service=service or None,
                    )
                )
    with path_tab, st.form("ingest_path"):
        kind = st.selectbox("Kind", ["git", *SOURCES], key="path_source")
        path = st.text_input("Path (under the configured ingest roots)", max_chars=1000)
        service = st.text_input("Service (git, JUnit)", max_chars=100, key="path_svc")
        if st.form_submit_button("Ingest path"):
            with service_errors():
                if kind == "git":
                    report = ingest.ingest_git(actor=actor, path=path, service=service or None)
                else:
                    report = ingest.ingest_file(
                        actor=actor,
                        source=ingest.EventSource(kind),
                        path=path,
                        service=service or None,
                    )
            _report(report)


Q_CURSORS = "quarantine_cursors"


def _quarantine(actor: Actor) -> None:
    if FLASH in st.session_state:
        st.success(st.session_state.pop(FLASH))
    cursors: list[str | None] = st.session_state.setdefault(Q_CURSORS, [None])
    with service_errors():
        page = quarantine.list_quarantine(actor=actor, limit=20, cursor=cursors[-1])
    if not page.items:
        st.caption("Nothing in quarantine.")
    elif page.next_cursor or len(cursors) > 1:
        st.caption(f"Page {len(cursors)} of the quarantine, newest first.")
    for rec in page.items:
        with st.expander(plain(f"#{rec.id} {rec.source.value} · {rec.origin} · {rec.position}")):
            st.error(plain(rec.reason))
            fixed = st.text_area("Record (fix it, then retry)", value=rec.raw, key=f"q_{rec.id}")
            a, b = st.columns(2)
            if a.button("Retry", key=f"q_retry_{rec.id}"):
                with service_errors():
                    outcome = quarantine.retry_quarantined(actor=actor, record_id=rec.id, raw=fixed)
                if outcome.accepted:
                    st.session_state[FLASH] = f"Accepted: {outcome.inserted} event(s) stored."
                    st.rerun()
                st.error(plain(f"Still rejected: {outcome.record.reason}"))
            if b.button("Discard", key=f"q_discard_{rec.id}"):
                with service_errors():
                    quarantine.discard_quarantined(
                        actor=actor, record_id=rec.id, reason="discarded on the ingest panel"
                    )
                st.rerun()
    prev, nxt = st.columns(2)
    if len(cursors) > 1 and prev.button("Newer quarantined records", key="q_prev"):
        cursors.pop()
        st.rerun()
    if page.next_cursor and nxt.button("Older quarantined records", key="q_next"):
        cursors.append(page.next_cursor)
        st.rerun()


def render(actor: Actor) -> None:
    """Ingest forms, the quarantine and connector health (for roles allowed to ingest)."""
    st.subheader("Ingest events")
    _ingest_forms(actor)
    st.markdown("**Quarantine**")
    _quarantine(actor)
    st.markdown("**Connector health**")
    with service_errors():
        health = quarantine.connector_health(actor=actor)
    if not health:
        st.caption("No connector has run yet.")
        return
    safe_dataframe(pd.DataFrame([h.model_dump(mode="json") for h in health]), hide_index=True)
