"""The signed-in user, kept in Streamlit's session state."""

from __future__ import annotations

import streamlit as st

from services.auth import SignedInUser

USER_KEY = "signed_in_user"


def current_user() -> SignedInUser:
    """The signed-in user; pages are only reachable once someone is signed in."""
    user = st.session_state.get(USER_KEY)
    if not isinstance(user, SignedInUser):
        st.warning("Please sign in first.")
        st.stop()
    return user


def sign_in(user: SignedInUser) -> None:
    st.session_state[USER_KEY] = user


def sign_out() -> None:
    st.session_state.pop(USER_KEY, None)
