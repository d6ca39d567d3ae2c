"""Local-time rules: quiet hours and the daily digest hour, in the user's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.notify.prefs_model import Pref


def zone(name: str) -> ZoneInfo:
    """The named IANA zone, UTC when the name is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def in_quiet_hours(pref: Pref, now: datetime) -> bool:
    """Whether ``now`` falls in the user's quiet hours (which may wrap past midnight)."""
    if pref.quiet_start is None or pref.quiet_end is None or pref.quiet_start == pref.quiet_end:
        return False
    hour = now.astimezone(zone(pref.timezone)).hour
    if pref.quiet_start < pref.quiet_end:
        return pref.quiet_start <= hour < pref.quiet_end
    return hour >= pref.quiet_start or hour < pref.quiet_end


def after_quiet_hours(pref: Pref, now: datetime) -> datetime | None:
    """When a message queued at ``now`` may go out: None (at once) or the end of quiet hours."""
    if not in_quiet_hours(pref, now) or pref.quiet_end is None:
        return None
    local = now.astimezone(zone(pref.timezone))
    end = local.replace(hour=pref.quiet_end, minute=0, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(UTC)


def digest_due(pref: Pref, now: datetime, last_digest_on: str | None) -> str | None:
    """The user's local date when their digest is due at ``now`` (past the digest hour and
    not yet sent today), else None."""
    local = now.astimezone(zone(pref.timezone))
    today = local.date().isoformat()
    if local.hour < pref.digest_hour or last_digest_on == today:
        return None
    return today
