"""Traces connector: JSON spans → slow-span and failed-span events.

Spans come as JSON lines or one JSON array; each has ``trace_id``, ``span_id``, ``service``,
``name``, ``start`` (ISO-8601 with zone), ``duration_ms`` and ``status`` (ok or error); optional
``parent_id`` and ``attributes``. A failed span, or one slower than the threshold, is an event.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.enums import EventSeverity, EventSource
from services.ingest.records import json_records
from services.ingest.schema import (
    EventIn,
    ParseResult,
    TimestampError,
    describe,
    parse_ts,
    payload_hash,
)

SLOW_MS = 1_000.0


class Span(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    trace_id: str = Field(min_length=1, max_length=100)
    span_id: str = Field(min_length=1, max_length=100)
    parent_id: str | None = None
    service: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=300)
    start: str
    duration_ms: float = Field(ge=0)
    status: Literal["ok", "error"]
    attributes: dict[str, Any] = Field(default_factory=dict)


def parse(
    data: bytes, *, now: datetime, skew: timedelta, max_line: int, slow_ms: float = SLOW_MS
) -> ParseResult:
    """Events for the failed and the slow spans of a span file."""
    result = ParseResult()
    for position, raw, value in json_records(data, max_line=max_line, result=result):
        text = raw.decode("utf-8", "replace")
        if not isinstance(value, dict):
            result.reject(position, "a span must be a JSON object", text)
            continue
        service = value.get("service") if isinstance(value.get("service"), str) else None
        try:
            span = Span.model_validate(_ints_as_floats(value))
            started = parse_ts(span.start, now=now, skew=skew, name="start")
        except ValidationError as exc:
            result.reject(position, describe(exc), text, service)
            continue
        except TimestampError as exc:
            result.reject(position, str(exc), text, service)
            continue
        failed = span.status == "error"
        if not failed and span.duration_ms < slow_ms:
            continue
        kind = "span_failed" if failed else "span_slow"
        what = "failed" if failed else f"took {span.duration_ms:,.0f} ms"
        result.events.append(
            EventIn(
                source=EventSource.TRACES,
                type=kind,
                occurred_at=started,
                severity=EventSeverity.HIGH if failed else EventSeverity.MEDIUM,
                service=span.service,
                title=f"{span.service} {span.name} {what}",
                data=json.loads(span.model_dump_json()),
                external_id=f"span:{span.trace_id}:{span.span_id}",
                payload_hash=payload_hash(raw),
            )
        )
    return result


def _ints_as_floats(doc: dict[str, Any]) -> dict[str, Any]:
    duration = doc.get("duration_ms")
    if isinstance(duration, int) and not isinstance(duration, bool):
        return {**doc, "duration_ms": float(duration)}
    return doc
