"""Scheduled runs (admin): cron schedules per agent, in their own time zone, and their firings."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import streamlit as st

from pages.components.feedback import plain, service_errors
from pages.components.session import current_user
from services import schedules
from services.runs import AgentName
from services.schedules import ScheduleCreate, ScheduleUpdate

user = current_user()
actor = user.actor
st.title("Scheduled runs")
st.caption(
    "Workers fire each occurrence once. After downtime only the latest missed occurrence "
    "fires; older ones are skipped and counted. Runs carry the trigger 'schedule' and the "
    "schedule's creator as triggerer, so they cannot approve its drafts themselves."
)
if flash := st.session_state.pop("schedules_flash", None):
    st.success(plain(flash))


def _when(at: datetime | None, tz: str | None = None) -> str:
    if at is None:
        return "—"
    if tz:  # the schedule's own zone is what its cron means
        return f"{at.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M} {tz}"
    return f"{at:%Y-%m-%d %H:%M} UTC"


def _selection(prefix: str, current: dict[str, object]) -> dict[str, object]:
    a, b, c = st.columns(3)
    days = a.number_input(
        "Overdue days (finance)",
        0,
        3650,
        int(str(current.get("overdue_days", 0))),
        key=f"{prefix}_days",
    )
    status = b.text_input(
        "Lead status / deal stage", str(current.get("status") or ""), key=f"{prefix}_status"
    )
    limit = c.number_input(
        "At most subjects per occurrence",
        1,
        500,
        int(str(current.get("limit", 50))),
        key=f"{prefix}_limit",
    )
    return {"overdue_days": int(days), "status": status.strip() or None, "limit": int(limit)}


with service_errors():
    rows = schedules.list_schedules(actor=actor)
if rows:
    st.dataframe(
        [
            {"Name": r.name, "Agent": r.agent.value, "Cron": r.cron, "Time zone": r.timezone,
             "Enabled": r.enabled, "Next": _when(r.next_fire_at, r.timezone),
             "Last occurrence": _when(r.last_occurrence_at)}
            for r in rows
        ],
        hide_index=True,
    )  # fmt: skip
else:
    st.info("No schedules yet.")

with st.expander("New schedule", expanded=not rows), st.form("new_schedule"):
    name = st.text_input("Name", max_chars=100, placeholder="Weekday dunning")
    agent = st.selectbox("Agent", list(AgentName), format_func=lambda a: a.value)
    cron = st.text_input("Cron (minute hour day month weekday)", "0 7 * * 1-5")
    tz = st.text_input("Time zone", "Europe/Berlin")
    selection = _selection("new", {"overdue_days": 7})
    if st.form_submit_button("Create schedule", type="primary"):
        with service_errors():
            schedule_in = schedules.build(
                ScheduleCreate, name=name.strip(), agent=agent, cron=cron, timezone=tz.strip(),
                selection=selection,
            )  # fmt: skip
            created = schedules.create_schedule(
                actor=actor, schedule_in=schedule_in, now=datetime.now(UTC)
            )
        st.session_state["schedules_flash"] = (
            f"Created {created.name}; first run {_when(created.next_fire_at)}."
        )
        st.rerun()

if rows:
    st.subheader("Change a schedule")
    by_id = {r.id: r for r in rows}
    picked = st.selectbox("Schedule", list(by_id), format_func=lambda i: by_id[i].name)
    row = by_id[picked]
    with st.form(f"edit_schedule_{row.id}_{row.row_version}"):
        cron = st.text_input("Cron", row.cron)
        tz = st.text_input("Time zone", row.timezone)
        enabled = st.checkbox("Enabled", row.enabled)
        selection = _selection(f"edit_{row.id}", row.selection)
        if st.form_submit_button("Save changes"):
            with service_errors():
                schedule_in = schedules.build(
                    ScheduleUpdate, cron=cron, timezone=tz.strip(), enabled=enabled,
                    selection=selection,
                )  # fmt: skip
                saved = schedules.update_schedule(
                    actor=actor, schedule_id=row.id, schedule_in=schedule_in,
                    expected_version=row.row_version, now=datetime.now(UTC),
                )  # fmt: skip
            st.session_state["schedules_flash"] = (
                f"Saved {saved.name}; next run {_when(saved.next_fire_at)}."
            )
            st.rerun()
    with service_errors():
        firings = schedules.list_firings(actor=actor, schedule_id=row.id)
    st.caption("Latest firings")
    st.dataframe(
        [
            {"Occurrence": _when(f.occurrence_at), "Runs": f.runs_enqueued,
             "Skipped before it": f.skipped, "Worker": f.worker_id}
            for f in firings
        ],
        hide_index=True,
    )  # fmt: skip
