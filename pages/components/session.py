"""Who is signed in: re-checked against the server-side session on every script run, so a
deactivation or a role change takes effect on the person's next interaction."""

from __future__ import annotations

import html
from typing import Any

import streamlit as st

from services import auth
from services.auth import SignedInUser
from services.errors import ServiceError

USER_KEY = "signed_in_user"
TOKEN_KEY = "revo_session_token"
HANDOFF_KEY = "revo_handoff_code"
SIGNOUT_KEY = "revo_clear_cookie"
REFUSAL_KEY = "revo_sign_in_refusal"
PROXY_EMAIL_KEY = "proxy_email"  # the st.user key server.trustedUserHeaders maps the header to
OIDC_REFUSED_KEY = "revo_oidc_refused"  # (subject, issued at, why): not retried every run


def current_user() -> SignedInUser:
    """The signed-in user; pages are only reachable once someone is signed in."""
    user = st.session_state.get(USER_KEY)
    if not isinstance(user, SignedInUser):
        st.warning("Please sign in first.")
        st.stop()
    return user


def _proxy_email() -> str:
    if "proxy" not in auth.enabled_modes():
        return ""  # a header is worth nothing unless proxy mode is on
    value = st.user.get(PROXY_EMAIL_KEY)
    return value.strip().lower() if isinstance(value, str) else ""


def oidc_claims() -> dict[str, Any]:
    """The claims of the identity st.login brought back ({} when there is none or oidc is off)."""
    if "oidc" not in auth.enabled_modes():
        return {}
    try:
        claims = st.user.to_dict()
    except (AttributeError, RuntimeError):  # no script run context
        return {}
    return dict(claims) if claims.get("is_logged_in") is True and claims.get("sub") else {}


def _same_identity(user: SignedInUser) -> bool:
    """Whether st.login's identity is still this session's (not signed out, not someone else)."""
    return oidc_claims().get("sub") == user.oidc_subject


def _oidc_sign_in(claims: dict[str, Any]) -> SignedInUser | None:
    seen = (claims.get("sub"), claims.get("iat"))
    refused = st.session_state.get(OIDC_REFUSED_KEY)
    if refused and refused[:2] == seen:
        st.session_state[REFUSAL_KEY] = refused[2]
        return None
    try:
        return start(auth.oidc_sign_in(claims=claims))
    except ServiceError as exc:
        st.session_state[OIDC_REFUSED_KEY] = (*seen, exc.message)
        st.session_state[REFUSAL_KEY] = exc.message
        return None


def _cookie_token() -> str:
    try:
        value = st.context.cookies.get(auth.COOKIE_NAME)
    except (AttributeError, RuntimeError):  # no browser connection
        return ""
    return value if isinstance(value, str) else ""


def _forget() -> None:
    for key in (USER_KEY, TOKEN_KEY, HANDOFF_KEY):
        st.session_state.pop(key, None)


def resolve() -> SignedInUser | None:
    """The signed-in user for this run, or None: the sign-in screen follows."""
    token = st.session_state.get(TOKEN_KEY) or _cookie_token()
    if token:
        user = auth.resume_session(token=token)
        if user is not None and user.method == "proxy" and _proxy_email() != user.email.lower():
            auth.end_session(token=token, reason="proxy_identity_changed")
            user = None
        if user is not None and user.method == "oidc" and not _same_identity(user):
            auth.end_session(token=token, reason="oidc_identity_changed")
            user = None
        if user is not None:
            st.session_state[TOKEN_KEY] = token
            st.session_state[USER_KEY] = user
            return user
        _forget()
    if _proxy_email():
        try:
            return start(auth.proxy_sign_in(email=_proxy_email()))
        except ServiceError as exc:
            st.session_state[REFUSAL_KEY] = exc.message  # the sign-in screen says why
            return None
    if claims := oidc_claims():
        return _oidc_sign_in(claims)
    prior = st.session_state.get(USER_KEY)
    if isinstance(prior, SignedInUser) and prior.method == "demo":
        refreshed = auth.refresh_user(user_id=prior.actor.user_id, method="demo")
        if refreshed is None or "demo" not in auth.enabled_modes():
            _forget()
            return None
        st.session_state[USER_KEY] = refreshed
        return refreshed
    return None


def start(result: auth.SignInResult) -> SignedInUser:
    """Keep a fresh sign-in; the next run hands the browser its session cookie."""
    st.session_state[TOKEN_KEY] = result.token
    st.session_state[USER_KEY] = result.user
    if result.user.method in {"password", "oidc"}:
        st.session_state[HANDOFF_KEY] = result.handoff_code
    return result.user


def sign_in(user: SignedInUser) -> None:
    st.session_state[USER_KEY] = user


def sign_out() -> None:
    """End the session on the server and forget it here; the browser's cookie is cleared next."""
    prior = st.session_state.get(USER_KEY)
    single_sign_on = isinstance(prior, SignedInUser) and prior.method == "oidc"
    token = st.session_state.get(TOKEN_KEY) or _cookie_token()
    if token:
        auth.end_session(token=token)
        # After single sign-on, st.logout's redirect clears Streamlit's identity cookie; a second
        # navigation (the cookie-clearing post) would race it, and the dead cookie is harmless.
        st.session_state[SIGNOUT_KEY] = not single_sign_on
    _forget()
    if single_sign_on:
        st.logout()
        # End the run here: a rerun would start by dropping the queued redirect to /auth/logout.
        st.stop()


def browser_handoff() -> None:
    """After a sign-in or sign-out, let the browser trade the code for its cookie (or clear it)."""
    code = st.session_state.pop(HANDOFF_KEY, None)
    if code:
        st.html(
            f'<script src="/auth/handoff.js" data-code="{html.escape(code)}"></script>',
            unsafe_allow_javascript=True,
        )
    elif st.session_state.pop(SIGNOUT_KEY, None) and _cookie_token():
        st.html(
            '<script src="/auth/handoff.js" data-action="signout"></script>',
            unsafe_allow_javascript=True,
        )
