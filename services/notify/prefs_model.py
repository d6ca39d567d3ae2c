"""A user's notification preferences as plain values (defaults when they set none)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.enums import ChannelKind, DigestMode
from domain.models import NotifyPreference

USER_EVENTS = (
    "review.new",
    "review.claim_lapsing",
    "review.sla_warning",
    "review.second_approval",
    "review.rejected",
    "review.edited",
)


@dataclass(frozen=True)
class Pref:
    events: frozenset[str] = field(default_factory=lambda: frozenset(USER_EVENTS))
    channel: ChannelKind = ChannelKind.EMAIL
    digest: bool = False
    digest_hour: int = 8
    timezone: str = "UTC"
    quiet_start: int | None = None
    quiet_end: int | None = None

    @classmethod
    def default(cls) -> Pref:
        return cls()

    @classmethod
    def of(cls, row: NotifyPreference) -> Pref:
        return cls(
            events=frozenset(row.events),
            channel=row.channel,
            digest=row.mode is DigestMode.DIGEST,
            digest_hour=row.digest_hour,
            timezone=row.timezone,
            quiet_start=row.quiet_start,
            quiet_end=row.quiet_end,
        )


def load_prefs(session: Session, tenant_id: int, user_ids: list[int]) -> dict[int, Pref]:
    """The stored preferences of these users (absent users use the defaults)."""
    rows = session.scalars(
        select(NotifyPreference).where(
            NotifyPreference.tenant_id == tenant_id, NotifyPreference.user_id.in_(user_ids)
        )
    ).all()
    return {row.user_id: Pref.of(row) for row in rows}


__all__ = ["USER_EVENTS", "ChannelKind", "DigestMode", "Pref", "load_prefs"]
