"""Run metrics: placeholder until issue #5 lands."""

from __future__ import annotations

import streamlit as st

from pages.components.session import current_user

current_user()
st.title("Run metrics")
st.info(
    "This screen is not built yet. It will show "
    "run metrics: agent runs, LLM calls, review outcomes and queue health (issue #5)."
)
