"""The audit log (admin, viewer): filter, read changes as diffs, export CSV, check the chain."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.components.audit_filters import filter_bar
from pages.components.feedback import plain, service_errors
from pages.components.session import current_user
from pages.components.tables import safe_dataframe
from services import audit_integrity, audit_log, permissions
from services.permissions import Action

user = current_user()
st.title("Audit log")

# Each render checks the chain from its newest signed checkpoint; an admin may walk it all.
full = permissions.can(user.actor, Action.VERIFY_AUDIT_FULL) and st.button("Verify everything")
with service_errors():
    chain = audit_integrity.verify_tenant(actor=user.actor, full=full)
if chain.notice:
    st.warning(plain(chain.notice))
if chain.ok:
    when = f"{chain.verified_at:%Y-%m-%d %H:%M:%S} UTC" if chain.verified_at else "—"
    scope = (
        "from genesis"
        if chain.from_checkpoint is None
        else f"from the checkpoint at entry {chain.from_checkpoint}"
    )
    st.success(f"Hash chain verified up to entry {chain.verified_seq} at {when} ({scope}).")
else:
    st.error(
        f"Hash chain broken at entry {chain.broken_seq}: {plain(chain.problem or '')}. "
        f"Verified up to entry {chain.verified_seq}."
    )

with service_errors():
    facets = audit_log.facets(actor=user.actor)
    audit_filter = filter_bar(facets)

signature = audit_filter.model_dump_json()
if st.session_state.get("audit_signature") != signature:
    st.session_state["audit_signature"] = signature
    st.session_state["audit_cursors"] = [None]
    st.session_state.pop("audit_csv", None)  # an export of the previous filter
cursors: list[str | None] = st.session_state["audit_cursors"]

with service_errors():
    page = audit_log.search(actor=user.actor, filter_in=audit_filter, cursor=cursors[-1])

total = f"{page.total:,}+" if page.total_capped else f"{page.total or 0:,}"
st.caption(f"{total} matching entries · page {len(cursors)}")
if not page.items:
    st.info("No audit entries match.")
for entry in page.items:
    label = (
        f"#{entry.seq} · {entry.created_at:%Y-%m-%d %H:%M:%S} · {entry.actor_label} · "
        f"{entry.action} · {entry.entity_type} {entry.entity_id or ''}"
    )
    with st.expander(plain(label)):
        if entry.reason:
            st.text(f"Reason: {entry.reason}")
        lines = audit_log.diff(entry)
        if lines:
            frame = pd.DataFrame([line.model_dump() for line in lines])
            safe_dataframe(frame, hide_index=True, width="stretch")
        else:
            st.caption("No field changes recorded.")

cols = st.columns([1, 1, 4])
if len(cursors) > 1 and cols[0].button("First page"):
    st.session_state["audit_cursors"] = [None]
    st.rerun()
if page.next_cursor and cols[1].button("Next page"):
    cursors.append(page.next_cursor)
    st.rerun()
if cols[2].button("Prepare CSV export"):
    with service_errors():
        st.session_state["audit_csv"] = audit_log.export_csv(
            actor=user.actor, filter_in=audit_filter
        )
if csv_text := st.session_state.get("audit_csv"):
    st.download_button("Download CSV", csv_text, file_name="audit-log.csv", mime="text/csv")
