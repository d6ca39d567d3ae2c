"""Traces connector: JSON spans → slow-span and failed-span events.

Spans come as JSON lines or one JSON array; each has ``trace_id``, ``span_id``, ``service``,
``name``, ``start`` (ISO-8601 with zone), ``duration_ms`` and ``status`` (ok or error); optional
``parent_id`` and ``attributes``. A failed span, or one slower than the threshold, is an event.
"""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domain.enums import EventSeverity, EventSource
from services.ingest.records import json_records
from services.ingest.schema import (
    EventIn,
    ParseResult,
    Sink,
    TimestampError,
    describe,
    parse_ts,
    payload_hash,
    unexpected,
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
    """Events for the failed and the slow spans of a span file's bytes."""
    result = ParseResult()
    read(io.BytesIO(data), result, now=now, skew=skew, max_line=max_line, slow_ms=slow_ms)
    return result


def read(
    stream: IO[bytes],
    out: Sink,
    *,
    now: datetime,
    skew: timedelta,
    max_line: int,
    slow_ms: float = SLOW_MS,
) -> None:
    """Events for the failed and the slow spans of a span stream, one span at a time."""
    for position, text, value, problems in json_records(stream, max_line=max_line, out=out):
        try:
            _span(out, position, text, value, problems, now=now, skew=skew, slow_ms=slow_ms)
        except Exception as exc:
            out.reject(position, unexpected(exc), text)


def _span(
    out: Sink,
    position: str,
    text: str,
    value: Any,
    problems: list[str],
    *,
    now: datetime,
    skew: timedelta,
    slow_ms: float,
) -> None:
    if not isinstance(value, dict):
        out.reject(position, "a span must be a JSON object", text)
        return
    service = value.get("service") if isinstance(value.get("service"), str) else None
    problems = list(problems)
    doc = dict(value)
    duration = doc.get("duration_ms")
    if isinstance(duration, int) and not isinstance(duration, bool):
        try:
            doc["duration_ms"] = float(duration)
        except OverflowError:
            problems.append(f"duration_ms: {str(duration)[:20]}… is too large a number")
            doc["duration_ms"] = 0.0
    span: Span | None = None
    try:
        span = Span.model_validate(doc)
    except ValidationError as exc:
        problems.append(describe(exc))
    start = doc.get("start")
    started = None
    if isinstance(start, str):
        try:
            started = parse_ts(start, now=now, skew=skew, name="start")
        except TimestampError as exc:
            problems.append(str(exc))
    if problems or span is None or started is None:
        out.reject(position, "; ".join(problems) or "the span cannot be read", text, service)
        return
    failed = span.status == "error"
    if not failed and span.duration_ms < slow_ms:
        return
    kind = "span_failed" if failed else "span_slow"
    what = "failed" if failed else f"took {span.duration_ms:,.0f} ms"
    out.event(
        EventIn(
            source=EventSource.TRACES,
            type=kind,
            occurred_at=started,
            severity=EventSeverity.HIGH if failed else EventSeverity.MEDIUM,
            service=span.service,
            title=f"{span.service} {span.name} {what}",
            data=json.loads(span.model_dump_json()),
            external_id=f"span:{span.trace_id}:{span.span_id}",
            payload_hash=payload_hash(text),
        ),
        position=position,
        raw=text,
    )
