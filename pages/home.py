"""Home: how much work is where, for the signed-in user's tenant."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.llm_status import model_notice
from pages.components.session import current_user
from services import home

user = current_user()
st.title("Revo Console")
st.caption(
    f"{plain(user.tenant_name)} · signed in as {plain(user.display_name)} ({user.actor.role.value})"
)

with service_errors():
    overview = home.get_overview(actor=user.actor)
    model_notice(user.actor)


def _tiles(heading: str, counts: list[home.StatusCount]) -> None:
    st.subheader(heading)
    columns = st.columns(len(counts))
    for column, item in zip(columns, counts, strict=True):
        column.metric(item.status.replace("_", " ").capitalize(), f"{item.count:,}")


_tiles("Review queue", overview.review_items)
st.caption(f"{overview.overdue_reviews:,} pending items are past their due time.")
_tiles("Agent runs, last 30 days", overview.runs_last_30_days)
if overview.runs_since:
    since = overview.runs_since.astimezone(ZoneInfo(overview.time_zone))
    st.caption(
        f"Since {since:%Y-%m-%d} 00:00, today included: 30 days in {overview.time_zone}, "
        "the same days Run metrics shows by default."
    )
_tiles("Investigations", overview.investigations)
