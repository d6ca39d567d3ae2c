"""Alert rules (admins): thresholds on the console's metrics, their state and firing history."""

from __future__ import annotations

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.session import current_user
from services.notify import alerts, channels
from services.notify.alert_metrics import METRICS
from services.notify.alerts import SEVERITIES, AlertRuleCreate

user = current_user()
st.title("Alert rules")
with service_errors():
    targets = {c.id: c.name for c in channels.list_channels(actor=user.actor)}

with st.form("new_rule", clear_on_submit=True):
    cols = st.columns([2, 3, 1])
    name = cols[0].text_input("Name", max_chars=100)
    metric = cols[1].selectbox("Metric", list(METRICS), format_func=lambda m: f"{m}: {METRICS[m]}")
    agent = cols[2].text_input("Agent (error rate only)", max_chars=32)
    cols = st.columns(5)
    threshold = cols[0].number_input("Alert above", value=0.0, format="%g")
    window = cols[1].number_input("Window (min)", 1, 43_200, value=15)
    interval = cols[2].number_input("Every (s)", 10, 86_400, value=60)
    cooldown = cols[3].number_input("Cool-down (s)", 0, 604_800, value=900)
    severity = cols[4].selectbox("Severity", SEVERITIES, index=1)
    chosen = st.multiselect("Channels", list(targets), format_func=lambda i: targets[i])
    if st.form_submit_button("Add rule", type="primary"):
        try:
            rule_in = AlertRuleCreate(
                name=name,
                metric=metric,
                agent=agent.strip() or None,
                threshold=float(threshold),
                window_minutes=int(window),
                interval_s=int(interval),
                cooldown_s=int(cooldown),
                severity=severity,
                channel_ids=chosen,
            )
        except ValueError:
            st.error("Give the rule a name and a finite threshold.")
        else:
            with service_errors():
                alerts.create_rule(actor=user.actor, rule_in=rule_in)
            st.rerun()

with service_errors():
    rules = alerts.list_rules(actor=user.actor)
    firings = alerts.list_firings(actor=user.actor)
if not rules:
    st.info("No alert rules yet.")
for rule in rules:
    since = f" since {rule.firing_since:%Y-%m-%d %H:%M} UTC" if rule.firing_since else ""
    value = "—" if rule.last_value is None else f"{rule.last_value:g}"
    st.markdown(
        f"**{plain(rule.name)}** · {rule.severity} · {rule.state.value}{since} · "
        f"{rule.metric} = {value} (alert above {rule.threshold:g})"
    )

st.subheader("History")
names = {r.id: r.name for r in rules}
st.dataframe(
    [
        {
            "at": f.at,
            "rule": names.get(f.rule_id, f.rule_id),
            "change": f.kind,
            "value": f.value,
            "notified": f.notified,
        }
        for f in firings
    ],
    hide_index=True,
)
