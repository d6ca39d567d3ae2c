"""The sign-in screen: one section per enabled mode (single sign-on, password, proxy, demo)."""

from __future__ import annotations

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.session import REFUSAL_KEY, browser_handoff, oidc_claims, sign_in, start
from services import auth


def _password_form() -> None:
    with st.form("password_sign_in"):
        email = st.text_input("Email", max_chars=254, autocomplete="username")
        password = st.text_input(
            "Password", type="password", max_chars=256, autocomplete="current-password"
        )
        code = st.text_input(
            "Authenticator code", max_chars=8, help="Only if your account uses one.",
            autocomplete="one-time-code",
        )  # fmt: skip
        workspace = st.text_input(
            "Workspace", max_chars=64, help="Only needed when your email is in several workspaces."
        )
        if st.form_submit_button("Sign in", type="primary"):
            with service_errors():
                start(
                    auth.password_sign_in(
                        email=email,
                        password=password,
                        totp_code=code,
                        workspace=workspace,
                        client_address=st.context.ip_address or "",
                    )
                )
            st.rerun()


def _single_sign_on() -> None:
    if oidc_claims():  # refused above: let them leave that identity and pick another
        if st.button("Sign out of single sign-on", icon=":material/logout:"):
            st.logout()
        return
    if st.button("Sign in with single sign-on", type="primary", icon=":material/login:"):
        st.login()


def _demo_picker() -> None:
    refusal = auth.demo_mode_refusal(server_address=st.get_option("server.address"))
    if refusal:
        st.error(plain(refusal))
        return
    st.caption("Demo sign-in: pick one of the seeded users.")
    with service_errors():
        users = auth.list_demo_users()
    if not users:
        st.warning("There are no users yet. Seed demo data with `revo seed demo`.")
        return
    labels = {
        u.user_id: f"{u.tenant_name} — {u.display_name} ({u.role.value}, {u.email})" for u in users
    }
    with st.form("demo_sign_in"):
        user_id = st.selectbox("User", options=list(labels), format_func=labels.__getitem__)
        if st.form_submit_button("Sign in", type="primary"):
            with service_errors():
                sign_in(auth.demo_sign_in(user_id=user_id))
            st.rerun()


def sign_in_screen() -> None:
    browser_handoff()  # a sign-out clears the browser's cookie from here
    st.title("Sign in to Revo Console")
    if refusal := st.session_state.pop(REFUSAL_KEY, None):
        st.error(plain(refusal))
    modes = auth.enabled_modes()
    if not modes or modes == {"demo"}:
        _demo_picker()
        return
    if "proxy" in modes and not refusal:
        st.info(
            "This console expects your identity from the company sign-in proxy, and none "
            "arrived. Open the console through its usual address."
        )
    if "oidc" in modes:
        _single_sign_on()
    if "password" in modes:
        _password_form()
    if "demo" in modes:
        _demo_picker()
