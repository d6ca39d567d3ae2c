"""Metrics connector: CSV time series → anomaly events.

The file has a header row with ``timestamp,service,metric,value`` (any order; extra columns are
ignored). For each service and metric the points are taken in time order; a value outside
mean ± 3 standard deviations of the previous 20 normal points (at least 5) is an anomaly.
Quoted fields may not span lines.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from array import array
from datetime import UTC, datetime, timedelta
from typing import IO

from domain.enums import EventSeverity, EventSource
from services.ingest.records import lines
from services.ingest.schema import EventIn, ParseResult, Sink, TimestampError, parse_ts, unexpected
from services.ingest.schema import payload_hash as hash_of

REQUIRED = ("timestamp", "service", "metric", "value")
WINDOW = 20
MIN_POINTS = 5
BAND_SIGMAS = 3.0

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class Series:
    """One series' points in compact arrays (32 bytes a point); the line's text is read again
    from the stream only for the few points that become anomalies."""

    __slots__ = ("lines", "offsets", "times", "values")

    def __init__(self) -> None:
        self.times, self.values = array("q"), array("d")
        self.lines, self.offsets = array("q"), array("q")


def parse(data: bytes, *, now: datetime, skew: timedelta, max_line: int) -> ParseResult:
    """Anomaly events from a CSV's bytes of (timestamp, service, metric, value) rows."""
    result = ParseResult()
    read(io.BytesIO(data), result, now=now, skew=skew, max_line=max_line)
    return result


def read(stream: IO[bytes], out: Sink, *, now: datetime, skew: timedelta, max_line: int) -> None:
    """Anomaly events from a CSV stream: rows are read one at a time, series kept compact."""
    header: list[str] | None = None
    series: dict[tuple[str, str], Series] = {}
    for number, offset, _raw, text in lines(stream, max_line=max_line, out=out):
        if header is None:
            header = [c.strip().lower() for c in next(csv.reader([text.replace("\x00", "")]))]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                out.reject(f"line {number}", f"header lacks column(s) {', '.join(missing)}", text)
                return
            out.records -= 1  # the header is not a record
            continue
        try:
            _row(out, header, series, number, offset, text, now=now, skew=skew)
        except Exception as exc:
            out.reject(f"line {number}", unexpected(exc), text)
    if header is None:
        out.records += 1
        out.reject("line 1", "the file is empty; a header row is required", "")
        return
    for (service, metric), points in series.items():
        for event, number, offset in anomalies(service, metric, points):
            stream.seek(offset)
            text = stream.readline().rstrip(b"\n").rstrip(b"\r").decode("utf-8")
            event.payload_hash = hash_of(text)
            out.event(event, position=f"line {number}", raw=text)


def _row(
    out: Sink,
    header: list[str],
    series: dict[tuple[str, str], Series],
    number: int,
    offset: int,
    text: str,
    *,
    now: datetime,
    skew: timedelta,
) -> None:
    if "\x00" in text:
        out.reject(f"line {number}", "the row contains a NUL character", text)
        return
    row = next(csv.reader([text]))
    if len(row) != len(header):
        out.reject(f"line {number}", f"expected {len(header)} fields, found {len(row)}", text)
        return
    cells = dict(zip(header, row, strict=True))
    service, metric = cells["service"].strip(), cells["metric"].strip()
    problems = []
    if not service or not metric:
        problems.append("service and metric may not be empty")
    value = math.nan
    try:
        value = float(cells["value"])
    except ValueError:
        problems.append(f"value {cells['value'][:40]!r} is not a number")
    else:
        if not math.isfinite(value):
            problems.append("value must be a finite number")
    try:
        at = parse_ts(cells["timestamp"], now=now, skew=skew)
    except TimestampError as exc:
        problems.append(str(exc))
    if problems:
        out.reject(f"line {number}", "; ".join(problems), text, service or None)
        return
    points = series.get((service[:100], metric[:100]))
    if points is None:
        points = series[(service[:100], metric[:100])] = Series()
    points.times.append((at - EPOCH) // MICROSECOND)
    points.values.append(value)
    points.lines.append(number)
    points.offsets.append(offset)


def anomalies(service: str, metric: str, points: Series) -> list[tuple[EventIn, int, int]]:
    """(event, line, offset) for points outside the rolling band of the normal points before.

    The events' payload hash is filled in by the caller, from the line's text.
    """
    found: list[tuple[EventIn, int, int]] = []
    normal: list[float] = []
    # Stable: points of the same time stay in line order.
    for i in sorted(range(len(points.times)), key=points.times.__getitem__):
        value, number = points.values[i], points.lines[i]
        window = normal[-WINDOW:]
        if len(window) >= MIN_POINTS:
            mean = statistics.fmean(window)
            spread = max(statistics.pstdev(window), abs(mean) * 0.01, 1e-9)
            sigmas = (value - mean) / spread
            if abs(sigmas) > BAND_SIGMAS:
                at = EPOCH + MICROSECOND * points.times[i]
                direction = "above" if sigmas > 0 else "below"
                low, high = mean - BAND_SIGMAS * spread, mean + BAND_SIGMAS * spread
                event = EventIn(
                    source=EventSource.METRICS,
                    type="metric_anomaly",
                    occurred_at=at,
                    severity=EventSeverity.HIGH if abs(sigmas) >= 6 else EventSeverity.MEDIUM,
                    service=service,
                    title=(
                        f"{metric} of {service} is {value:g}, "
                        f"{direction} the band {low:g} to {high:g}"
                    ),
                    data={
                        "metric": metric,
                        "value": value,
                        "band_low": low,
                        "band_high": high,
                        "mean": mean,
                        "sigmas": round(sigmas, 2),
                        "line": number,
                    },
                    external_id=f"anomaly:{service}:{metric}:{at.isoformat()}",
                    payload_hash="0" * 64,
                )
                found.append((event, number, points.offsets[i]))
                continue
        normal.append(value)
        if len(normal) > 4 * WINDOW:
            del normal[:-WINDOW]
    return found
