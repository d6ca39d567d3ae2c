"""My notifications: which events reach me, where, when (immediately or a daily digest)."""

from __future__ import annotations

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.session import current_user
from services.notify import prefs
from services.notify.prefs import NotifyPrefsUpdate
from services.notify.prefs_model import USER_EVENTS, ChannelKind, DigestMode

LABELS = {
    "review.new": "A new item in kinds I may decide",
    "review.claim_lapsing": "An item I hold is about to lose its claim",
    "review.sla_warning": "Items due within the SLA warning window",
    "review.second_approval": "A four-eyes item waits for a second approver",
    "review.rejected": "My item was rejected",
    "review.edited": "My item was edited",
}
HOURS = [None, *range(24)]

user = current_user()
st.title("My notifications")
with service_errors():
    current = prefs.get_my_prefs(actor=user.actor)

with st.form("my_notifications"):
    events = [e for e in USER_EVENTS if st.checkbox(LABELS[e], value=e in current.events, key=e)]
    cols = st.columns(2)
    channel = cols[0].selectbox(
        "Channel", list(ChannelKind), index=list(ChannelKind).index(current.channel)
    )
    target = cols[1].text_input(
        "Webhook or apprise URL (not needed for email)",
        placeholder=current.target_hint or "slack://… or https://…",
        type="password",
    )
    mode = st.radio(
        "When",
        list(DigestMode),
        index=list(DigestMode).index(current.mode),
        format_func=lambda m: "Immediately" if m is DigestMode.IMMEDIATE else "Daily digest",
        horizontal=True,
    )
    cols = st.columns(4)
    hour = cols[0].number_input("Digest hour", 0, 23, value=current.digest_hour)
    zone = cols[1].text_input("Time zone", value=current.timezone, max_chars=64)
    quiet_start = cols[2].selectbox("Quiet from", HOURS, index=HOURS.index(current.quiet_start))
    quiet_end = cols[3].selectbox("Quiet until", HOURS, index=HOURS.index(current.quiet_end))
    if st.form_submit_button("Save", type="primary"):
        with service_errors():
            prefs.update_my_prefs(
                actor=user.actor,
                prefs_in=NotifyPrefsUpdate(
                    events=events,
                    channel=channel,
                    target=target or None,
                    mode=mode,
                    digest_hour=int(hour),
                    timezone=zone.strip() or "UTC",
                    quiet_start=quiet_start,
                    quiet_end=quiet_end,
                ),
            )
        st.success("Saved.")

if st.button("Send me a test", icon=":material/send:"):
    with service_errors():
        prefs.send_me_test(actor=user.actor)
    st.toast("Test queued; a worker sends it within seconds.")

st.subheader("Sent to me")
with service_errors():
    sent = prefs.list_my_notifications(actor=user.actor)
if not sent:
    st.info("Nothing yet.")
for note in sent:
    link = f" · [open]({note.link})" if note.link and note.link.startswith("http") else ""
    st.markdown(
        f"{note.created_at:%Y-%m-%d %H:%M} · {note.status.value} · {plain(note.subject)}{link}"
    )
