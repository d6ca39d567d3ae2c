"""Review queue: placeholder until issue #3 lands."""

from __future__ import annotations

import streamlit as st

from pages.components.session import current_user

current_user()
st.title("Review queue")
st.info(
    "This screen is not built yet. It will show "
    "the review queue: claim, edit, approve or reject drafts under policy rules (issue #3)."
)
