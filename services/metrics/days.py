"""Calendar days in a tenant's time zone: where they start in UTC, and the UTC offsets a period
passes through. A day is 24 hours, or 23 and 25 on the days daylight saving time starts and ends.

A local day starts at the first instant whose wall-clock reads that date (00:00, or the end of
the gap when a zone springs forward at midnight). Every boundary is computed here with zoneinfo
and handed to the database as a literal, so SQLite and PostgreSQL (whose own time-zone data may
differ) bucket the same rows into the same days.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Offset changes are months apart; stepping by half a day cannot jump over two of them.
_STEP = timedelta(hours=12)


def zone(name: str) -> ZoneInfo:
    """The IANA zone of that name, or ValueError saying it is unknown."""
    if not name or len(name) > 64 or "\x00" in name:
        raise ValueError("the time zone must be an IANA name such as Europe/Berlin")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"the time zone {name!r} is not a known IANA zone") from exc


def midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant the local day starts."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def is_midnight(moment: datetime, tz: ZoneInfo) -> bool:
    """Whether a moment is the start of a local day."""
    return midnight(local_date(moment, tz), tz) == moment


def span(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The local days ``first`` to ``last`` (both included) as a UTC [start, end)."""
    return midnight(first, tz), midnight(last + timedelta(days=1), tz)


def calendar_days(days: int, *, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The last ``days`` whole local days, today included, as a UTC [start, end)."""
    today = local_date(now, tz)
    return span(today - timedelta(days=days - 1), today, tz)


def _offset(moment: datetime, tz: ZoneInfo) -> int:
    delta = moment.astimezone(tz).utcoffset()
    return int(delta.total_seconds()) if delta else 0


def _change(low: datetime, high: datetime, tz: ZoneInfo) -> datetime:
    """The first second in (low, high] whose offset differs from ``low``'s."""
    before = _offset(low, tz)
    lo, hi = int(low.timestamp()), int(high.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(datetime.fromtimestamp(mid, UTC), tz) == before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)


def offsets(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[datetime, int]]:
    """The UTC offsets (seconds) in force over [start, end): (from, offset) pairs, the first from
    ``start``, each in force until the next one's ``from``."""
    out = [(start.astimezone(UTC), _offset(start, tz))]
    at = start
    while at < end:
        step = min(at + _STEP, end)
        if _offset(step, tz) != out[-1][1]:
            changed = _change(at, step, tz)
            if changed < end:
                out.append((changed, _offset(changed, tz)))
        at = step
    return out


def utc_like(start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    """Whether the zone's offset is 0 over the whole period, so its local days are UTC days."""
    return offsets(start, end, tz) == [(start.astimezone(UTC), 0)]
