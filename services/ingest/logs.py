"""Logs connector: JSON-lines log files → error events and error-spike events.

One JSON object per line with ``ts`` (ISO-8601 with zone), ``level``, ``service`` and
``message``; other keys are kept in the event's data. Lines at level error, fatal or critical
become events; the rest are read and counted but make no event. Per service and minute, an
error count well above the average of the ten minutes before is an error spike; one spike event
marks its onset minute.
"""

from __future__ import annotations

import io
import json
from array import array
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from domain.enums import EventSeverity, EventSource
from services.ingest.records import lines
from services.ingest.schema import (
    EventIn,
    ParseResult,
    Sink,
    TimestampError,
    parse_ts,
    payload_hash,
    short_title,
    unexpected,
)
from services.ingest.values import JsonProblem, load_json

ERROR_LEVELS = {"error": EventSeverity.HIGH, "fatal": EventSeverity.CRITICAL}
ERROR_LEVELS["critical"] = EventSeverity.CRITICAL
BASELINE_MINUTES = 10
SPIKE_FACTOR = 3.0
SPIKE_MIN_COUNT = 5
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


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
    """Error events and spike events from a JSON-lines log file's bytes."""
    result = ParseResult()
    read(io.BytesIO(data), result, now=now, skew=skew, max_line=max_line)
    return result


def read(stream: IO[bytes], out: Sink, *, now: datetime, skew: timedelta, max_line: int) -> None:
    """Error events, then spike events, from a JSON-lines log stream, one line at a time."""
    minutes = Minutes()
    for number, _at, raw, text in lines(stream, max_line=max_line, out=out):
        try:
            _line(out, number, raw, text, minutes, now=now, skew=skew)
        except Exception as exc:
            out.reject(f"line {number}", unexpected(exc), text)
    for service, counts in minutes.per_service():
        for spike in spikes(service, counts):
            out.event(
                spike,
                position=f"spike {spike.external_id}"[:100],
                raw=json.dumps(spike.data),
                derived=True,
            )


def _line(
    out: Sink,
    number: int,
    raw: bytes,
    text: str,
    minutes: Minutes,
    *,
    now: datetime,
    skew: timedelta,
) -> None:
    try:
        doc, problems = load_json(text)
    except JsonProblem as exc:
        out.reject(
            f"line {number}, column {exc.column}" if exc.column else f"line {number}",
            str(exc),
            text,
        )
        return
    if not isinstance(doc, dict):
        out.reject(f"line {number}", "a log line must be a JSON object", text)
        return
    found = check(doc)
    problems = ([found] if found else []) + problems
    occurred = None
    if isinstance(doc.get("ts"), str):  # check() names a missing or non-string ts
        try:
            occurred = parse_ts(doc["ts"], now=now, skew=skew, name="ts")
        except TimestampError as exc:
            problems.append(str(exc))
    if problems or occurred is None:
        out.reject(f"line {number}", "; ".join(problems), text, _service(doc))
        return
    severity = ERROR_LEVELS.get(doc["level"].lower())
    if severity is None:
        return
    digest = payload_hash(raw)
    service, message = doc["service"], doc["message"]
    # isoformat is several times faster than strftime; the same digits as %Y%m%dT%H%M%S.%f.
    stamp = occurred.isoformat(timespec="microseconds")[:26].replace("-", "").replace(":", "")
    event = EventIn(
        source=EventSource.LOGS,
        type="log_error",
        occurred_at=occurred,
        severity=severity,
        service=service,
        title=short_title(message.strip().splitlines()[0] if message.strip() else "(empty)"),
        data={k: v for k, v in doc.items() if k != "ts"},
        external_id=f"log:{stamp}:{digest[:32]}",
        payload_hash=digest,
    )
    out.event(event, position=f"line {number}", raw=text)
    minutes.add(service, occurred)


class Minutes:
    """Error counts per service and minute, kept as runs in two compact arrays per service.

    Logs come mostly in time order, so a run is one (minute, count) pair per service and
    minute: 16 bytes, where a dict entry with a datetime key costs about ten times that.
    """

    def __init__(self) -> None:
        self._runs: dict[str, tuple[array[int], array[int]]] = {}
        self._limits: dict[str, int] = {}

    def add(self, service: str, at: datetime) -> None:
        """Count one error of the service at this time."""
        minute = (at - EPOCH) // MINUTE
        runs = self._runs.get(service)
        if runs is None:
            runs = self._runs[service] = (array("q"), array("q"))
            self._limits[service] = 65_536
        keys, counts = runs
        if keys and keys[-1] == minute:
            counts[-1] += 1
            return
        keys.append(minute)
        counts.append(1)
        if len(keys) > self._limits[service]:  # out of order: merge the runs, then go on
            merged = _merged(keys, counts)
            self._runs[service] = (array("q", merged), array("q", merged.values()))
            if len(merged) > self._limits[service] // 2:
                self._limits[service] *= 2

    def per_service(self) -> Iterator[tuple[str, dict[int, int]]]:
        """Each service's counts by minute (minutes since 1970), one service at a time."""
        for service in sorted(self._runs):
            keys, counts = self._runs[service]
            yield service, _merged(keys, counts)


def _merged(keys: array[int], counts: array[int]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for key, count in zip(keys, counts, strict=True):
        merged[key] = merged.get(key, 0) + count
    return dict(sorted(merged.items()))


def _service(doc: dict[str, Any]) -> str | None:
    value = doc.get("service")
    return value[:100] if isinstance(value, str) else None


def spikes(service: str, counts: Mapping[int, int]) -> list[EventIn]:
    """One spike event per run of minutes whose error count is far above the recent baseline.

    ``counts`` maps minutes since 1970 (UTC) to error counts; integer minutes cannot overflow
    at the ends of the calendar, as datetime arithmetic near year 1 or 9999 would.
    """
    events: list[EventIn] = []
    spiking: set[int] = set()
    for minute in sorted(counts):
        window = [counts.get(minute - k, 0) for k in range(1, BASELINE_MINUTES + 1)]
        baseline = sum(window) / BASELINE_MINUTES
        threshold = max(SPIKE_MIN_COUNT, SPIKE_FACTOR * baseline)
        if counts[minute] >= threshold:
            spiking.add(minute)
            if minute - 1 in spiking:
                continue
            run, peak, cursor = 0, 0, minute
            while counts.get(cursor, 0) >= threshold:
                run += 1
                peak = max(peak, counts[cursor])
                cursor += 1
            at = EPOCH + MINUTE * minute
            onset = at.isoformat()
            doc = {"service": service, "onset": onset, "minutes": run, "peak_per_minute": peak}
            events.append(
                EventIn(
                    source=EventSource.LOGS,
                    type="error_spike",
                    occurred_at=at,
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
