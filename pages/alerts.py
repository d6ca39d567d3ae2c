"""Alert rules (admins): thresholds on the console's metrics, their state and firing history."""

from __future__ import annotations

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.session import current_user
from services import forms
from services.notify import alerts, channels
from services.notify.alert_metrics import METRICS
from services.notify.alerts import SEVERITIES, AlertRuleCreate, AlertRuleRead

user = current_user()
st.title("Alert rules")
with service_errors():
    targets = {c.id: c.name for c in channels.list_channels(actor=user.actor)}


def rule_form(key: str, rule: AlertRuleRead | None = None) -> AlertRuleCreate | None:
    """The rule's settings as a form; the validated settings when it was submitted."""
    with st.form(key, clear_on_submit=rule is None):
        cols = st.columns([2, 3, 1])
        name = cols[0].text_input("Name", value=rule.name if rule else "", max_chars=100)
        metrics = list(METRICS)
        metric = cols[1].selectbox(
            "Metric",
            metrics,
            index=metrics.index(rule.metric) if rule and rule.metric in METRICS else 0,
            format_func=lambda m: f"{m}: {METRICS[m]}",
        )
        agent = cols[2].text_input(
            "Agent (error rate only)", value=(rule.agent or "") if rule else "", max_chars=32
        )
        cols = st.columns(5)
        threshold = cols[0].number_input(
            "Alert above", value=float(rule.threshold) if rule else 0.0, format="%g"
        )
        window = cols[1].number_input(
            "Window (min)", 1, 43_200, rule.window_minutes if rule else 15
        )
        interval = cols[2].number_input("Every (s)", 10, 86_400, rule.interval_s if rule else 60)
        cooldown = cols[3].number_input(
            "Cool-down (s)", 0, 604_800, rule.cooldown_s if rule else 900
        )
        severity = cols[4].selectbox(
            "Severity", SEVERITIES, index=SEVERITIES.index(rule.severity) if rule else 1
        )
        chosen = st.multiselect(
            "Channels",
            list(targets),
            default=[c for c in (rule.channel_ids if rule else []) if c in targets],
            format_func=lambda i: targets[i],
        )
        if not st.form_submit_button("Save rule" if rule else "Add rule", type="primary"):
            return None
    with service_errors():
        return forms.parse(
            AlertRuleCreate,
            hint="Give the rule a name and a finite threshold.",
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


new_rule = rule_form("new_rule")
if new_rule is not None:
    with service_errors():
        alerts.create_rule(actor=user.actor, rule_in=new_rule)
        st.rerun()

with service_errors():
    rules = alerts.list_rules(actor=user.actor)
    firings = alerts.list_firings(actor=user.actor)
if not rules:
    st.info("No alert rules yet.")
for rule in rules:
    since = f" since {rule.firing_since:%Y-%m-%d %H:%M} UTC" if rule.firing_since else ""
    value = "—" if rule.last_value is None else f"{rule.last_value:g}"
    state = rule.state.value if rule.is_active else "switched off"
    cols = st.columns([6, 1])
    cols[0].markdown(
        f"**{plain(rule.name)}** · {rule.severity} · {state}{since} · "
        f"{rule.metric} = {value} (alert above {rule.threshold:g})"
    )
    label = "Switch off" if rule.is_active else "Switch on"
    if cols[1].button(label, key=f"switch_{rule.id}"):
        with service_errors():
            alerts.set_rule_active(actor=user.actor, rule_id=rule.id, active=not rule.is_active)
            st.rerun()
    with st.expander(f"Edit {plain(rule.name)}"):
        edited = rule_form(f"edit_{rule.id}", rule)
        if edited is not None:
            with service_errors():
                alerts.update_rule(actor=user.actor, rule_id=rule.id, rule_in=edited)
                st.rerun()

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
