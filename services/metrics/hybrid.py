"""Totals over a period that is not whole UTC days, from the rollups and the raw rows together.

The daily rollups are keyed by UTC day, so a period starting at a local midnight away from UTC
(23:00 UTC for Berlin in winter) cannot be read from them alone. Its totals are the rollups'
over the whole UTC days inside it, [ceil(start), floor(end)), plus the raw rows of the two
partial edges [start, ceil) and [floor, end), each under a day and cheap by the created_at
indexes. Every row is in exactly one of the three parts, so counts and sums add exactly;
percentiles merge the edges' values into the rollups' histogram bins, binned by the same SQL
as the rollup triggers, so they equal what the rollups would give for the same rows.

Only totals are served this way: a local day straddles two UTC days, so per-day buckets in such
a zone are counted from the raw rows (see services/metrics/rollups.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, literal_column
from sqlalchemy.orm import Session

from services.metrics import rollup_sql, rollups
from services.metrics.filters import MetricsFilter, dialect

Key = tuple[Any, ...]
Eligible = Callable[[Session, int, MetricsFilter], bool]


def split(f: MetricsFilter) -> tuple[MetricsFilter, list[MetricsFilter]] | None:
    """The whole UTC days inside the period and its partial edges (None when it holds no whole
    UTC day)."""
    first = rollups.day_of(f.start)
    if first < f.start:
        first += timedelta(days=1)
    last = rollups.day_of(f.end)
    if first >= last:
        return None
    inner = f.model_copy(update={"start": first, "end": last})
    edges = [
        f.model_copy(update={"start": a, "end": b})
        for a, b in ((f.start, first), (last, f.end))
        if a < b
    ]
    return inner, edges


def plan(
    session: Session, tenant_id: int, f: MetricsFilter, eligible: Eligible
) -> tuple[MetricsFilter, list[MetricsFilter]] | None:
    """The period for the rollups and the edges for the raw rows, or None to count it all raw.
    ``eligible`` is rollups.for_runs, for_calls or for_reviews."""
    if eligible(session, tenant_id, f):
        return f, []
    parts = split(f)
    if parts is not None and parts[1] and eligible(session, tenant_id, parts[0]):
        return parts
    return None


def binned(session: Session, column: str) -> ColumnElement[int]:
    """The rollups' histogram bin of a raw column (its SQL name, e.g. ``llm_calls.latency_ms``)."""
    return literal_column(rollup_sql.histogram_bin(dialect(session), column))


def add_rows(groups: int, *row_sets: Iterable[Sequence[Any]]) -> list[Key]:
    """Rows of (*key, *measures) with equal keys (their first ``groups`` columns) summed."""
    out: dict[Key, list[int]] = {}
    for rows in row_sets:
        for row in rows:
            key = tuple(row[:groups])
            values = [int(v or 0) for v in row[groups:]]
            found = out.get(key)
            out[key] = (
                values if found is None else [a + b for a, b in zip(found, values, strict=True)]
            )
    return [(*k, *v) for k, v in out.items()]


def add_bins(groups: int, *row_sets: Iterable[Sequence[Any]]) -> dict[Key, dict[int, int]]:
    """Histogram rows of (*key, bin, n) merged into bins per key."""
    out: dict[Key, dict[int, int]] = {}
    for rows in row_sets:
        for row in rows:
            b, n = row[groups], int(row[groups + 1])
            found = out.setdefault(tuple(row[:groups]), {})
            found[int(b)] = found.get(int(b), 0) + n
    return out


def percentiles(
    bins: dict[Key, dict[int, int]], fractions: Sequence[float]
) -> dict[Key, list[float | None]]:
    """Percentiles per key from merged bins (as the rollups compute them)."""
    return {k: rollups.percentiles(v.items(), fractions) for k, v in bins.items()}


def overall(bins: dict[Key, dict[int, int]]) -> dict[int, int]:
    """Every key's bins together."""
    out: dict[int, int] = {}
    for found in bins.values():
        for b, n in found.items():
            out[b] = out.get(b, 0) + n
    return out
