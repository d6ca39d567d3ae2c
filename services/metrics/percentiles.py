"""Grouped percentiles with the same answer on PostgreSQL and SQLite.

PostgreSQL computes ``percentile_cont`` itself. SQLite has no percentile function, so one window
query numbers each group's sorted values and returns only the (at most two per fraction) rows a
linear interpolation needs; Python interpolates exactly as ``percentile_cont`` does
(position ``1 + p * (n - 1)`` between the neighbouring rows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Select, cast, func, or_, select
from sqlalchemy.orm import Session

from services.metrics.filters import dialect

Key = tuple[Any, ...]


def grouped(
    session: Session, base: Select[*tuple[Any, ...]], *, groups: int, fractions: Sequence[float]
) -> dict[Key, list[float | None]]:
    """Percentiles of ``base``'s last column per tuple of its first ``groups`` columns.

    ``base`` selects the group columns followed by one numeric value column; NULL values are
    ignored. Groups with no value are absent from the answer.
    """
    sub = base.subquery()
    cols = list(sub.columns)
    keys, value = cols[:groups], cols[groups]
    if dialect(session) == "postgresql":
        stmt = (
            select(*keys, *(func.percentile_cont(p).within_group(value) for p in fractions))
            .where(value.is_not(None))
            .group_by(*keys)
        )
        return {
            tuple(row[:groups]): [None if v is None else float(v) for v in row[groups:]]
            for row in session.execute(stmt)
        }
    return _sqlite(session, sub, keys, value, fractions)


def _sqlite(
    session: Session, sub: Any, keys: list[Any], value: Any, fractions: Sequence[float]
) -> dict[Key, list[float | None]]:
    partition = keys or None
    numbered = (
        select(
            *keys,
            value.label("v"),
            func.row_number().over(partition_by=partition, order_by=value).label("rn"),
            func.count().over(partition_by=partition).label("n"),
        )
        .where(value.is_not(None))
        .subquery()
    )
    rn, n = numbered.c.rn, numbered.c.n
    wanted = []
    for p in fractions:
        low = cast(p * (n - 1), Integer) + 1
        wanted.extend([rn == low, rn == low + 1])
    stmt = select(*(numbered.c[k.name] for k in keys), numbered.c.v, rn, n).where(or_(*wanted))
    rows: dict[Key, dict[int, float]] = {}
    sizes: dict[Key, int] = {}
    for row in session.execute(stmt):
        key = tuple(row[: len(keys)])
        v, position, size = row[len(keys) :]
        rows.setdefault(key, {})[int(position)] = float(v)
        sizes[key] = int(size)
    return {key: [_interpolate(rows[key], sizes[key], p) for p in fractions] for key in rows}


def _interpolate(by_rank: dict[int, float], n: int, p: float) -> float | None:
    position = p * (n - 1)
    low = math.floor(position)
    lower = by_rank.get(low + 1)
    if lower is None:
        return None
    upper = by_rank.get(low + 2, lower)
    return lower + (position - low) * (upper - lower)


def single(
    session: Session, base: Select[*tuple[Any, ...]], fractions: Sequence[float]
) -> list[float | None]:
    """Percentiles of ``base``'s only column over all its rows (None when there are none)."""
    found = grouped(session, base, groups=0, fractions=fractions)
    return found.get((), [None] * len(fractions))
