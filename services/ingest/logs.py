"""Logs connector: JSON-lines log files → error events and error-spike events.

One JSON object per line with ``ts`` (ISO-8601 with zone), ``level``, ``service`` and
``message``; other keys are kept in the event's data. Lines at level error, fatal or critical
become events; the rest are read and counted but make no event. Per service and minute, an
error count well above the average of the ten minutes before is an error spike; one spike event
marks its onset minute.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.enums import EventSeverity, EventSource
from services.ingest.schema import (
    EventIn,
    ParseResult,
    TimestampError,
    lines,
    parse_ts,
    payload_hash,
    short_title,
)

ERROR_LEVELS = {"error": EventSeverity.HIGH, "fatal": EventSeverity.CRITICAL}
ERROR_LEVELS["critical"] = EventSeverity.CRITICAL
BASELINE_MINUTES = 10
SPIKE_FACTOR = 3.0
SPIKE_MIN_COUNT = 5


def check(doc: dict[str, Any]) -> str | None:
    """Why a log object is unusable, or None (hand-written: this runs once per line)."""
    problems = []
    for name in ("ts", "level", "service", "message"):
        value = doc.get(name)
        if value is None:
            problems.append(f"{name} is missing")
        elif not isinstance(value, str):
            problems.append(f"{name}: Input should be a valid string")
    service, level = doc.get("service"), doc.get("level")
    if isinstance(service, str) and not 0 < len(service) <= 100:
        problems.append("service: must be 1 to 100 characters")
    if isinstance(level, str) and not 0 < len(level) <= 20:
        problems.append("level: must be 1 to 20 characters")
    return "; ".join(problems) or None


def parse(data: bytes, *, now: datetime, skew: timedelta, max_line: int) -> ParseResult:
    """Error events and spike events from a JSON-lines log file."""
    result = ParseResult()
    per_minute: dict[str, Counter[datetime]] = {}
    for number, raw, text in lines(data, max_line=max_line, result=result):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            result.reject(f"line {number}, column {exc.colno}", f"not JSON: {exc.msg}", text)
            continue
        if not isinstance(doc, dict):
            result.reject(f"line {number}", "a log line must be a JSON object", text)
            continue
        problem = check(doc)
        if problem:
            result.reject(f"line {number}", problem, text, _service(doc))
            continue
        try:
            occurred = parse_ts(doc["ts"], now=now, skew=skew, name="ts")
        except TimestampError as exc:
            result.reject(f"line {number}", str(exc), text, _service(doc))
            continue
        severity = ERROR_LEVELS.get(doc["level"].lower())
        if severity is None:
            continue
        digest = payload_hash(raw)
        service, message = doc["service"], doc["message"]
        result.events.append(
            EventIn(
                source=EventSource.LOGS,
                type="log_error",
                occurred_at=occurred,
                severity=severity,
                service=service,
                title=short_title(
                    message.strip().splitlines()[0] if message.strip() else "(empty)"
                ),
                data={k: v for k, v in doc.items() if k != "ts"},
                external_id=f"log:{occurred:%Y%m%dT%H%M%S.%f}:{digest[:32]}",
                payload_hash=digest,
            )
        )
        minute = occurred.replace(second=0, microsecond=0)
        if service not in per_minute:
            per_minute[service] = Counter()
        per_minute[service][minute] += 1
    for service, counts in per_minute.items():
        found = spikes(service, counts)
        result.events.extend(found)
        result.derived += len(found)
    return result


def _service(doc: dict[str, Any]) -> str | None:
    value = doc.get("service")
    return value[:100] if isinstance(value, str) else None


def spikes(service: str, counts: Counter[datetime]) -> list[EventIn]:
    """One spike event per run of minutes whose error count is far above the recent baseline."""
    events: list[EventIn] = []
    step = timedelta(minutes=1)
    spiking: set[datetime] = set()
    for minute in sorted(counts):
        window = [counts.get(minute - step * k, 0) for k in range(1, BASELINE_MINUTES + 1)]
        baseline = sum(window) / BASELINE_MINUTES
        if counts[minute] >= max(SPIKE_MIN_COUNT, SPIKE_FACTOR * baseline):
            spiking.add(minute)
            if minute - step in spiking:
                continue
            run, peak, cursor = 0, 0, minute
            while counts.get(cursor, 0) >= max(SPIKE_MIN_COUNT, SPIKE_FACTOR * baseline):
                run += 1
                peak = max(peak, counts[cursor])
                cursor += step
            onset = minute.astimezone(UTC).isoformat()
            doc = {"service": service, "onset": onset, "minutes": run, "peak_per_minute": peak}
            events.append(
                EventIn(
                    source=EventSource.LOGS,
                    type="error_spike",
                    occurred_at=minute,
                    severity=EventSeverity.HIGH,
                    service=service,
                    title=(
                        f"Error spike in {service}: {counts[minute]} errors/min "
                        f"(baseline {baseline:.1f}/min)"
                    ),
                    data={
                        **doc,
                        "errors_at_onset": counts[minute],
                        "baseline_per_minute": round(baseline, 2),
                    },
                    external_id=f"spike:{service}:{onset}",
                    payload_hash=payload_hash(json.dumps(doc, sort_keys=True)),
                )
            )
    return events
