"""Investigations: placeholder until issue #6 lands."""

from __future__ import annotations

import streamlit as st

from pages.components.session import current_user

current_user()
st.title("Investigations")
st.info(
    "This screen is not built yet. It will show "
    "investigation timelines: events, suspect changes and root-cause hypotheses (issue #6)."
)
