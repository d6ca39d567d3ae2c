"""The review queue's filter bar and table."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from pages.components import when
from pages.components.tables import safe_dataframe
from services.review import ReviewItemRow, ReviewKind, ReviewQueueFilter, ReviewStatus, Risk

SORTS = {
    "due": "Due time",
    "priority": "Priority",
    "age": "Oldest first",
    "confidence": "Confidence",
}
ASSIGNEES = {"anyone": "Anyone", "unassigned": "Unassigned", "me": "Claimed by me"}
DUE = {"any": "Any", "overdue": "Overdue", "due_soon": "Due within 1 h", "not_due": "Not yet due"}


def filter_bar(default_kinds: list[ReviewKind]) -> ReviewQueueFilter:
    """The filters, search and sort the reviewer picked."""
    top = st.columns([3, 2, 2, 2])
    search = top[0].text_input("Search subject and draft", key="rq_search")
    statuses = top[1].multiselect(
        "Status", list(ReviewStatus), default=[ReviewStatus.PENDING], key="rq_status"
    )
    assignee = top[2].selectbox(
        "Assignee", list(ASSIGNEES), format_func=ASSIGNEES.__getitem__, key="rq_assignee"
    )
    sort = top[3].selectbox("Sort by", list(SORTS), format_func=SORTS.__getitem__, key="rq_sort")
    with st.expander("More filters"):
        row = st.columns(4)
        kinds = row[0].multiselect("Kind", list(ReviewKind), default=default_kinds, key="rq_kind")
        risks = row[1].multiselect("Risk", list(Risk), key="rq_risk")
        due = row[2].selectbox("Due", list(DUE), format_func=DUE.__getitem__, key="rq_due")
        subject = row[3].text_input("Subject contains", key="rq_subject")
        row2 = st.columns(3)
        band = row2[0].slider("Confidence", 0.0, 1.0, (0.0, 1.0), step=0.05, key="rq_conf")
        older = row2[1].number_input("Older than (hours)", min_value=0.0, value=0.0, key="rq_old")
        newer = row2[2].number_input("Newer than (hours, 0 = any)", min_value=0.0, key="rq_new")
    return ReviewQueueFilter(
        kinds=kinds,
        statuses=statuses,
        assignee=assignee,
        subject=subject,
        min_confidence=band[0] if band[0] > 0 else None,
        max_confidence=band[1] if band[1] < 1 else None,
        risks=risks,
        older_than_hours=older or None,
        newer_than_hours=newer or None,
        due=due,
        search=search,
        sort=sort,
    )


def queue_table(rows: list[ReviewItemRow], tz: ZoneInfo) -> list[int]:
    """The queue as a table with row selection; returns the selected item ids."""
    frame = pd.DataFrame(
        [
            {
                "id": r.id,
                "kind": r.kind.value,
                "subject": r.subject_label,
                "status": r.status.value + (" ⚠ overdue" if r.overdue else ""),
                "due": f"{when.relative(r.due_at)} · {when.local(r.due_at, tz, '%m-%d %H:%M')}",
                "priority": r.priority,
                "confidence": round(r.confidence, 2),
                "risk": r.risk.value,
                "amount": r.amount,
                "claimed by": r.claimed_by_name or "",
            }
            for r in rows
        ]
    )
    event = safe_dataframe(
        frame,
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        key="rq_table",
        column_config={"due": st.column_config.TextColumn(help=f"Times in {tz.key}")},
        width="stretch",
    )
    selected = getattr(getattr(event, "selection", None), "rows", []) or []
    return [rows[i].id for i in selected if i < len(rows)]
