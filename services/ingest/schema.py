"""The one event schema every connector produces, and the pieces connectors share."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.enums import EventSeverity, EventSource
from services.ingest.values import safe_text

TITLE_MAX = 500
RAW_KEEP = 4_000


class EventIn(BaseModel):
    """One event as a connector produced it, before it is stored."""

    model_config = ConfigDict(extra="forbid")

    source: EventSource
    type: str = Field(min_length=1, max_length=64)
    occurred_at: AwareDatetime
    severity: EventSeverity = EventSeverity.INFO
    service: str | None = Field(default=None, max_length=100)
    title: str = Field(min_length=1)
    data: dict[str, Any] = Field(default_factory=dict)
    external_id: str = Field(min_length=1, max_length=300)
    payload_hash: str = Field(min_length=64, max_length=64)

    @field_validator("title")
    @classmethod
    def _short_title(cls, value: str) -> str:
        return short_title(value)


def short_title(value: str) -> str:
    """A title cut to what the events table holds."""
    return value if len(value) <= TITLE_MAX else value[: TITLE_MAX - 1] + "…"


@dataclass(frozen=True)
class Rejected:
    """A record that failed validation: where it was, why, and its raw text."""

    position: str
    reason: str
    raw: str
    service: str | None = None


class Sink(Protocol):
    """Where a connector puts what it reads; ``records`` counts the records read."""

    records: int

    def event(self, event: EventIn, *, position: str, raw: str, derived: bool = False) -> None:
        """One event; ``derived`` when it stands for no record of its own (a spike)."""

    def reject(self, position: str, reason: str, raw: str, service: str | None = None) -> None:
        """One record that cannot be used, with every reason why."""


@dataclass
class ParseResult:
    """A sink in memory: events, rejected records, and how many records were read."""

    events: list[EventIn] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    records: int = 0
    derived: int = 0  # events made from many records (error spikes), not from one

    @property
    def skipped(self) -> int:
        """Valid records that made no event (info log lines, fast spans, normal points)."""
        return max(self.records - len(self.rejected) - (len(self.events) - self.derived), 0)

    def event(self, event: EventIn, *, position: str, raw: str, derived: bool = False) -> None:
        """Keep the event."""
        self.events.append(event)
        self.derived += derived

    def reject(self, position: str, reason: str, raw: str, service: str | None = None) -> None:
        """Keep the rejected record, its text clipped and escaped."""
        self.rejected.append(rejected(position, reason, raw, service))


def rejected(position: str, reason: str, raw: str, service: str | None = None) -> Rejected:
    """A rejected record whose every field can be stored on either engine."""
    return Rejected(
        safe_text(position[:100]),
        safe_text(reason),
        safe_text(clip(raw)),
        safe_text(service[:100]) if service else None,
    )


def unexpected(exc: BaseException) -> str:
    """A reason for an error no check foresaw (the record is quarantined, the ingest goes on)."""
    if isinstance(exc, RecursionError):
        return "the record is nested too deeply to read"
    if isinstance(exc, ValidationError):
        return describe(exc)
    text = str(exc).strip().splitlines()
    return f"the record could not be read ({type(exc).__name__}: {text[0][:300] if text else '-'})"


def clip(raw: str) -> str:
    """The raw text kept for a quarantined record (long records are cut, marked as cut)."""
    return raw if len(raw) <= RAW_KEEP else raw[:RAW_KEEP] + f"… [{len(raw):,} characters]"


def payload_hash(raw: bytes | str) -> str:
    """SHA-256 of the raw payload, hex."""
    return hashlib.sha256(raw.encode() if isinstance(raw, str) else raw).hexdigest()


class TimestampError(ValueError):
    """A timestamp that cannot be used; the message says why."""


def parse_ts(value: object, *, now: datetime, skew: timedelta, name: str = "timestamp") -> datetime:
    """An aware UTC datetime from an ISO-8601 string with a zone, not in the future."""
    if not isinstance(value, str):
        raise TimestampError(f"{name} must be an ISO-8601 string, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise TimestampError(f"{name} {value[:60]!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        raise TimestampError(f"{name} {value[:60]!r} has no time zone; add one (e.g. Z or +02:00)")
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:
        raise TimestampError(
            f"{name} {value[:60]!r} lies outside the years 1 to 9999 once converted to UTC"
        ) from None
    if parsed > now + skew:
        raise TimestampError(f"{name} {value[:60]!r} lies in the future")
    return parsed


def describe(exc: ValidationError) -> str:
    """A validation error as one line a person can act on."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "record"
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "is missing"
        parts.append(f"{where} {msg}" if msg == "is missing" else f"{where}: {msg}")
    return "; ".join(parts)
