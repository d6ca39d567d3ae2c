"""Metrics connector: CSV time series → anomaly events.

The file has a header row with ``timestamp,service,metric,value`` (any order; extra columns are
ignored). For each service and metric the points are taken in time order; a value outside
mean ± 3 standard deviations of the previous 20 normal points (at least 5) is an anomaly.
Quoted fields may not span lines.
"""

from __future__ import annotations

import csv
import math
import statistics
from datetime import datetime, timedelta

from domain.enums import EventSeverity, EventSource
from services.ingest.schema import EventIn, ParseResult, TimestampError, lines, parse_ts
from services.ingest.schema import payload_hash as hash_of

REQUIRED = ("timestamp", "service", "metric", "value")
WINDOW = 20
MIN_POINTS = 5
BAND_SIGMAS = 3.0

Point = tuple[datetime, float, int, str]


def parse(data: bytes, *, now: datetime, skew: timedelta, max_line: int) -> ParseResult:
    """Anomaly events from a CSV of (timestamp, service, metric, value) rows."""
    result = ParseResult()
    header: list[str] | None = None
    series: dict[tuple[str, str], list[Point]] = {}
    for number, _raw, text in lines(data, max_line=max_line, result=result):
        row = next(csv.reader([text]))
        if header is None:
            result.records -= 1
            header = [c.strip().lower() for c in row]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                result.reject(
                    f"line {number}", f"header lacks column(s) {', '.join(missing)}", text
                )
                return result
            continue
        if len(row) != len(header):
            result.reject(
                f"line {number}", f"expected {len(header)} fields, found {len(row)}", text
            )
            continue
        cells = dict(zip(header, row, strict=True))
        service, metric = cells["service"].strip(), cells["metric"].strip()
        if not service or not metric:
            result.reject(f"line {number}", "service and metric may not be empty", text)
            continue
        try:
            value = float(cells["value"])
        except ValueError:
            result.reject(f"line {number}", f"value {cells['value'][:40]!r} is not a number", text)
            continue
        if not math.isfinite(value):
            result.reject(f"line {number}", "value must be a finite number", text, service)
            continue
        try:
            at = parse_ts(cells["timestamp"], now=now, skew=skew)
        except TimestampError as exc:
            result.reject(f"line {number}", str(exc), text, service)
            continue
        series.setdefault((service[:100], metric[:100]), []).append((at, value, number, text))
    if header is None:
        result.reject("line 1", "the file is empty; a header row is required", "")
    for (service, metric), points in series.items():
        result.events.extend(anomalies(service, metric, points))
    return result


def anomalies(service: str, metric: str, points: list[Point]) -> list[EventIn]:
    """Events for points outside the rolling band of the normal points before them."""
    events: list[EventIn] = []
    normal: list[float] = []
    for at, value, number, text in sorted(points, key=lambda p: (p[0], p[2])):
        window = normal[-WINDOW:]
        if len(window) >= MIN_POINTS:
            mean = statistics.fmean(window)
            spread = max(statistics.pstdev(window), abs(mean) * 0.01, 1e-9)
            sigmas = (value - mean) / spread
            if abs(sigmas) > BAND_SIGMAS:
                direction = "above" if sigmas > 0 else "below"
                low, high = mean - BAND_SIGMAS * spread, mean + BAND_SIGMAS * spread
                events.append(
                    EventIn(
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
                        payload_hash=hash_of(text),
                    )
                )
                continue
        normal.append(value)
    return events
