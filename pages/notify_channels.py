"""Channels and webhooks (admins): where alerts and events go, a test per channel, deliveries."""

from __future__ import annotations

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.session import current_user
from services import forms
from services.notify import channels
from services.notify.channels import WEBHOOK_EVENTS, ChannelCreate, ChannelKind, OutboxStatus

user = current_user()
st.title("Channels and webhooks")
st.caption(
    "Webhook deliveries are signed per Standard Webhooks (headers webhook-id, webhook-timestamp, "
    "webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>)."
)

if secret := st.session_state.pop("notify_channel_secret", None):
    st.success("Endpoint created. Copy its signing secret now: it is shown only once.")
    st.code(secret, language=None)

with st.form("new_channel", clear_on_submit=True):
    cols = st.columns([2, 1, 4])
    name = cols[0].text_input("Name", max_chars=100)
    kind = cols[1].selectbox("Kind", list(ChannelKind))
    target = cols[2].text_input("Address, URL or apprise URL", type="password", max_chars=2000)
    events = st.multiselect("Webhook events (for webhook endpoints)", list(WEBHOOK_EVENTS))
    if st.form_submit_button("Add channel", type="primary"):
        with service_errors():
            channel_in = forms.parse(
                ChannelCreate,
                hint="Give the channel a name and a target.",
                name=name,
                kind=kind,
                target=target,
                events=events,
            )
            created = channels.create_channel(actor=user.actor, channel_in=channel_in)
        st.session_state["notify_channel_secret"] = created.signing_secret
        st.rerun()

with service_errors():
    rows = channels.list_channels(actor=user.actor)
for ch in rows:
    with st.container(border=True):
        cols = st.columns([3, 3, 1, 1])
        state = "on" if ch.is_active else "off"
        cols[0].markdown(f"**{plain(ch.name)}** · {ch.kind.value} · {state}")
        cols[1].caption(f"{plain(ch.target_hint)} · {plain(', '.join(ch.events) or 'alerts only')}")
        if cols[2].button("Send test", key=f"test_{ch.id}"):
            with service_errors():
                channels.send_test(actor=user.actor, channel_id=ch.id)
            st.toast("Test queued; a worker sends it within seconds.")
        if cols[3].button("Switch off" if ch.is_active else "Switch on", key=f"toggle_{ch.id}"):
            with service_errors():
                channels.set_active(actor=user.actor, channel_id=ch.id, active=not ch.is_active)
            st.rerun()

st.subheader("Deliveries")
status = st.selectbox("Status", [None, *OutboxStatus], format_func=lambda s: s or "any")
with service_errors():
    deliveries = channels.list_deliveries(actor=user.actor, status=status)
st.dataframe(
    [
        {
            "id": d.id,
            "event": d.event,
            "channel": d.channel,
            "status": d.status.value,
            "attempts": d.attempts,
            "response": d.last_status_code,
            "error": (d.last_error or "")[:200],
            "queued": d.created_at,
            "sent": d.sent_at,
        }
        for d in deliveries
    ],
    hide_index=True,
)
