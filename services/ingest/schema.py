"""The one event schema every connector produces, and the pieces connectors share."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.enums import EventSeverity, EventSource

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


@dataclass
class ParseResult:
    """What a connector made of one input: events, rejected records, and how many it read."""

    events: list[EventIn] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    records: int = 0
    derived: int = 0  # events made from many records (error spikes), not from one

    @property
    def skipped(self) -> int:
        """Valid records that made no event (info log lines, fast spans, normal points)."""
        return max(self.records - len(self.rejected) - (len(self.events) - self.derived), 0)

    def reject(self, position: str, reason: str, raw: str, service: str | None = None) -> None:
        self.rejected.append(Rejected(position, reason, clip(raw), service))


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
    parsed = parsed.astimezone(UTC)
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


def lines(data: bytes, *, max_line: int, result: ParseResult) -> Iterator[tuple[int, bytes, str]]:
    """Numbered non-blank lines as (number, raw bytes, text); bad lines go to the result."""
    for number, raw in enumerate(data.split(b"\n"), 1):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        result.records += 1
        if len(raw) > max_line:
            result.reject(
                f"line {number}",
                f"line is {len(raw):,} bytes long; the limit is {max_line:,}",
                raw[:RAW_KEEP].decode("utf-8", "backslashreplace"),
            )
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            result.reject(
                f"line {number}, byte {exc.start + 1}",
                "line is not valid UTF-8 text",
                raw.decode("utf-8", "backslashreplace"),
            )
            continue
        yield number, raw, text
