"""Review policies (admin): per kind, who decides, four-eyes, self-approval, SLA and expiry."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from pages.components.feedback import service_errors
from pages.components.session import current_user
from pages.components.tables import safe_dataframe
from services import review
from services.auth import Role
from services.review import ReviewKind

user = current_user()
st.title("Review policies")
st.caption("Changes apply at once: pending items take the new rules, due and expiry times.")

if flash := st.session_state.pop("policy_flash", None):
    st.success(flash)

with service_errors():
    policy = review.get_policy(actor=user.actor)

kind = st.selectbox(
    "Kind", list(ReviewKind), format_func=lambda k: k.value.replace("_", " ").capitalize()
)
limit = policy.four_eyes_limits.get(kind)
with st.form("policy_form"):
    roles = st.multiselect(
        "Roles who decide",
        [r.value for r in Role],
        default=[r.value for r in policy.deciders[kind]],
    )
    amount = st.text_input(
        "Second approver above amount (empty: never)",
        value="" if limit is None else f"{limit:g}",
        max_chars=30,
    )
    self_ok = st.checkbox(
        "Whoever triggered the run may approve its draft",
        value=policy.triggerer_may_approve.get(kind, False),
    )
    cols = st.columns(2)
    sla = cols[0].number_input("SLA (hours)", value=float(policy.sla_hours[kind]), step=1.0)
    expiry = cols[1].number_input(
        "Expiry (hours)", value=float(policy.expiry_hours[kind]), step=1.0
    )
    auto_expire = st.checkbox(
        "Expire undecided items at their expiry time (off: they stay pending)",
        value=policy.auto_expire.get(kind, True),
    )
    cols = st.columns(2)
    preview = cols[0].form_submit_button("Preview")
    save = cols[1].form_submit_button("Save policy", type="primary")

policy_in: dict[str, Any] = {
    "deciders": {kind.value: roles},
    "four_eyes_limits": {kind.value: amount.strip() or None},
    "triggerer_may_approve": {kind.value: self_ok},
    "sla_hours": {kind.value: sla},
    "expiry_hours": {kind.value: expiry},
    "auto_expire": {kind.value: auto_expire},
}
if preview or save:
    with service_errors():
        impact = review.preview_policy(actor=user.actor, policy_in=policy_in)
    message = (
        f"With this policy, {impact.change_deciders} of {impact.pending} pending items change "
        f"deciders and {impact.retimed} get new due or expiry times."
    )
    if save:
        with service_errors():
            review.update_policy(actor=user.actor, policy_in=policy_in)
        st.session_state["policy_flash"] = f"Policy saved. {message}"
        st.rerun()
    st.info(message)

rows = [
    {
        "kind": k.value,
        "deciders": ", ".join(r.value for r in policy.deciders[k]),
        "four-eyes above": policy.four_eyes_limits.get(k),
        "triggerer may approve": policy.triggerer_may_approve.get(k, False),
        "SLA h": policy.sla_hours[k],
        "expiry h": policy.expiry_hours[k],
        "auto-expire": policy.auto_expire.get(k, True),
    }
    for k in ReviewKind
]
safe_dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
