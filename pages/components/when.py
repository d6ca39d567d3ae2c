"""Times as people read them: in the tenant's time zone with the zone named, UTC on hover,
and relative ("due in 40 min") where people scan."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import streamlit as st

from pages.components.session import current_user
from services import clock

ZONE_KEY = "tenant_time_zone"


def zone() -> ZoneInfo:
    """The signed-in user's tenant time zone (looked up once per session)."""
    name = st.session_state.get(ZONE_KEY)
    if not isinstance(name, str):
        name = clock.time_zone(actor=current_user().actor)
        st.session_state[ZONE_KEY] = name
    return ZoneInfo(name)


def local(value: datetime, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """The moment in the tenant's zone, its abbreviation named: 2026-12-02 14:05 CET."""
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    there = moment.astimezone(tz)
    return f"{there:{fmt}} {there.tzname() or tz.key}"


def utc(value: datetime) -> str:
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def relative(value: datetime, now: datetime | None = None) -> str:
    """'in 40 min', '3 h ago', 'in 2 d', 'now'."""
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    size = abs(seconds)
    if size < 60:
        return "now"
    if size < 3600:
        amount = f"{size // 60:.0f} min"
    elif size < 2 * 86400:
        amount = f"{size // 3600:.0f} h" + (f" {size % 3600 // 60:.0f} min" if size < 36000 else "")
    else:
        amount = f"{size // 86400:.0f} d"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def caption(text: str, value: datetime, tz: ZoneInfo) -> None:
    """A caption with the local time, and the UTC time on hover."""
    st.caption(f"{text} {local(value, tz)} ({relative(value)})", help=utc(value))
