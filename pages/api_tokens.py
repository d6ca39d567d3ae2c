"""API tokens: admins create scoped tokens for agents (secret shown once) and revoke them."""

from __future__ import annotations

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.session import current_user
from services import api_tokens, forms
from services.api_tokens import ApiTokenCreate, Scope

user = current_user()
st.title("API tokens")
st.caption(
    "Agents call the API at /api/v1 with `Authorization: Bearer <token>`. A token acts as a "
    "service account of this tenant; it can submit and read reviews but never decide them."
)

if secret := st.session_state.pop("api_token_secret", None):
    st.success("Token created. Copy it now: it is shown only once and stored only as a hash.")
    st.code(secret, language=None)

with st.form("new_api_token", clear_on_submit=True):
    name = st.text_input("Name", max_chars=100, placeholder="deploy-bot")
    scopes = st.multiselect(
        "Scopes", list(Scope), default=[Scope.REVIEWS_SUBMIT, Scope.REVIEWS_READ]
    )
    cols = st.columns(2)
    days = cols[0].number_input("Expires after (days)", min_value=1, max_value=3650, value=90)
    rate = cols[1].number_input("Calls per minute", min_value=1, max_value=100_000, value=600)
    if st.form_submit_button("Create token", type="primary"):
        with service_errors():
            token_in = forms.parse(
                ApiTokenCreate,
                hint="Give the token a name and at least one scope.",
                name=name,
                scopes=scopes,
                expires_in_days=int(days),
                rate_limit_per_minute=int(rate),
            )
            created = api_tokens.create_token(actor=user.actor, token_in=token_in)
        st.session_state["api_token_secret"] = created.secret
        st.rerun()

with service_errors():
    page = api_tokens.list_tokens(actor=user.actor, limit=200)

if not page.items:
    st.info("No API tokens yet.")
for token in page.items:
    state = "revoked" if token.revoked_at else "active"
    with st.container(border=True):
        cols = st.columns([3, 3, 2, 1])
        cols[0].markdown(f"**{plain(token.name)}** · `revo_{token.prefix}_…` · {state}")
        cols[1].caption(", ".join(token.scopes))
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        expires = f"{token.expires_at:%Y-%m-%d}" if token.expires_at else "never"
        cols[2].caption(f"last used {used} · expires {expires}")
        if token.revoked_at is None and cols[3].button("Revoke", key=f"revoke_{token.id}"):
            with service_errors():
                api_tokens.revoke_token(actor=user.actor, token_id=token.id)
            st.rerun()
