"""Workspaces (platform admins): every tenant, and a form that opens one with its first admin."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from pydantic import SecretStr

from pages.components.feedback import plain, service_errors
from pages.components.session import current_user
from pages.components.tables import safe_dataframe
from services import auth, forms, people, workspaces

user = current_user()
st.title("Workspaces")
st.caption("Platform admins open workspaces here; inside one, people are what their role says.")

if notice := st.session_state.pop("workspace_notice", None):
    st.success(plain(notice))

with service_errors():
    rows = workspaces.list_workspaces(actor=user.actor)
    safe_dataframe(pd.DataFrame([r.model_dump() for r in rows]), hide_index=True)

password_mode = "password" in auth.enabled_modes()
with st.form("new_workspace", clear_on_submit=False, enter_to_submit=False):
    st.subheader("Open a workspace")
    cols = st.columns(2)
    name = cols[0].text_input("Name", max_chars=200)
    slug = cols[1].text_input("Slug (2-63 lowercase letters, digits, dashes)", max_chars=63)
    jit = st.checkbox("New people may sign up themselves through single sign-on (as viewers)")
    cols = st.columns(3)
    email = cols[0].text_input("First admin's email", max_chars=254)
    display = cols[1].text_input("First admin's name", max_chars=200)
    secret = cols[2].text_input("First password", type="password") if password_mode else ""
    if st.form_submit_button("Open workspace", type="primary"):
        with service_errors():
            admin_in = forms.parse(
                people.PersonCreate,
                email=email,
                display_name=display,
                password=SecretStr(secret) if secret else None,
            )
            made = workspaces.create_workspace(
                actor=user.actor, slug=slug, name=name, first_admin=admin_in, jit_signup=jit
            )
            st.session_state["workspace_notice"] = (
                f"Workspace {made.name} ({made.slug}) opened; {admin_in.email} is its admin."
            )
            st.rerun()
