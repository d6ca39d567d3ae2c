"""Prompts (admin): versions per key, a diff, a validated new version, activate and roll back,
and beside each version what its drafts became."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.session import current_user
from services import prompt_admin, prompts

user = current_user()
actor = user.actor
st.title("Prompts")

if flash := st.session_state.pop("prompts_flash", None):
    st.success(plain(flash))

with service_errors():
    keys = {k.key: k for k in prompt_admin.list_keys(actor=actor)}
key = st.selectbox(
    "Prompt",
    list(keys),
    format_func=lambda k: f"{k} · active v{keys[k].active_version or '—'}",
    key="pr_key",
)
entry = keys[key]
by_version = {v.version: v for v in entry.versions}

with service_errors():
    stats = prompt_admin.version_stats(actor=actor, key=key, now=datetime.now(UTC))


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


per_version = {s.version: s for s in stats}
empty = prompt_admin.VersionStats(version=0)
table = []
for v in entry.versions:
    s = per_version.get(v.version, empty)
    table.append(
        {
            "Version": f"v{v.version}" + (" (active)" if v.is_active else ""),
            "Runs": s.runs,
            "Drafts": s.drafts,
            "Approval rate": _pct(s.approval_rate),
            "Edit rate": _pct(s.edit_rate),
            "Median edit distance": s.median_edit_distance,
            "Invalid output": _pct(s.invalid_rate),
            "Created": f"{v.created_at:%Y-%m-%d %H:%M}",
        }
    )
st.dataframe(table, hide_index=True)

version = st.selectbox(
    "Version", list(by_version), format_func=lambda v: f"v{v}", key=f"pr_v_{key}"
)
shown = by_version[version]
st.code(shown.template, language=None)
st.caption(f"parameters {json.dumps(shown.parameters, sort_keys=True)} · hash {shown.hash[:12]}")
cols = st.columns(2)
if not shown.is_active and cols[0].button(f"Activate v{version}", key="pr_activate"):
    with service_errors():
        prompts.activate(actor=actor, prompt_id=shown.id)
    st.session_state["prompts_flash"] = f"{key} v{version} is now active."
    st.rerun()
if (
    entry.active_version
    and entry.active_version > min(by_version)
    and cols[1].button(f"Roll back from v{entry.active_version}", key="pr_rollback")
):
    with service_errors():
        now_active = prompt_admin.rollback(actor=actor, key=key)
    st.session_state["prompts_flash"] = f"Rolled back: {key} v{now_active.version} is now active."
    st.rerun()

st.subheader("Compare versions")
a, b = st.columns(2)
versions = sorted(by_version)
old = a.selectbox(
    "From", versions, index=0, format_func=lambda v: f"v{v}", key=f"pr_old_{key}_{len(versions)}"
)
new = b.selectbox(
    "To",
    versions,
    index=len(versions) - 1,
    format_func=lambda v: f"v{v}",
    key=f"pr_new_{key}_{len(versions)}",
)
with service_errors():
    patch = prompt_admin.diff(actor=actor, key=key, old=old, new=new)
st.code(patch or "The two versions are the same.", language="diff")

st.subheader("New version")
with service_errors():
    inputs = sorted(prompt_admin.agent_inputs(key))
st.caption(
    f"Starts from v{version}. Fields the agent provides: "
    + ", ".join(f"{{{f}}}" for f in inputs)
    + ". The new version is saved inactive; activate it when you are ready."
)
with st.form(f"pr_new_version_{key}_{version}"):
    template = st.text_area("Template", shown.template, height=320)
    parameters = st.text_area("Parameters (JSON)", json.dumps(shown.parameters), height=80)
    if st.form_submit_button("Save as new version", type="primary"):
        with service_errors():
            check = prompt_admin.check_template(key=key, template=template)
            created = prompt_admin.new_version(
                actor=actor, key=key, template=template, parameters_json=parameters
            )
        unused = f" (not using: {', '.join(check.unused_inputs)})" if check.unused_inputs else ""
        st.session_state["prompts_flash"] = f"Saved {key} v{created.version}{unused}."
        st.rerun()
