"""My account: turn on an authenticator app (TOTP) for password sign-in."""

from __future__ import annotations

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.session import current_user
from services import people

user = current_user()
st.title("My account")
st.caption(plain(f"{user.display_name} · {user.email} · {user.tenant_name}"))

st.subheader("Authenticator app")
enrollment = st.session_state.get("totp_enrollment")
if enrollment is None and st.button("Set up an authenticator app"):
    with service_errors():  # e.g. no REVO_TOTP_ENCRYPTION_KEY: said before a code is scanned
        enrollment = people.new_totp_enrollment(actor=user.actor)
    st.session_state["totp_enrollment"] = enrollment
if enrollment is not None:
    st.write("Add this key to your authenticator app, then enter the code it shows.")
    st.code(enrollment.secret)
    st.caption(enrollment.uri)
    with st.form("confirm_totp"):
        code = st.text_input("Code", max_chars=8)
        if st.form_submit_button("Turn on", type="primary"):
            with service_errors():
                people.confirm_totp(actor=user.actor, secret=enrollment.secret, code=code)
            st.session_state.pop("totp_enrollment", None)
            st.success("Your account now asks for a code at sign-in.")
