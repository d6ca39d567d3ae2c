"""A UTC moment entered as a date and a time side by side."""

from __future__ import annotations

from datetime import UTC, datetime, time

import streamlit as st


def utc_moment(label: str, value: datetime | None, *, key: str) -> datetime | None:
    """A date and a time input (UTC); None when the date is left empty."""
    day_col, time_col = st.columns(2)
    local = value.astimezone(UTC) if value else None
    day = day_col.date_input(
        f"{label} (UTC date)", value=local.date() if local else None, key=f"{key}_day"
    )
    at = time_col.time_input(
        f"{label} (UTC time)",
        value=local.time().replace(second=0, microsecond=0) if local else None,
        key=f"{key}_time",
        step=60,
    )
    if day is None:
        return None
    moment = datetime.combine(day, at or time.min, tzinfo=UTC)
    if local and moment == local.replace(second=0, microsecond=0):
        return value  # untouched: keep the seconds the minute-wide inputs cannot show
    return moment
