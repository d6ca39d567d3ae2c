"""What the bulk row builders share: the plan of one seed_bulk call and the wire format.

Rows are plain tuples in column order, already in the form the driver stores: timestamps as
strings from the writer's ``ts`` function (SQLite and PostgreSQL spell them differently), JSON
documents as serialized strings, enums as their lowercase values. The writers hand chunks
straight to the driver without per-value processing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.enums import Role

Row = tuple[Any, ...]
Ts = Callable[[float], str]
DAY = 86_400.0
SPAN_DAYS = 90


def expand(weights: Sequence[tuple[str, int]]) -> list[str]:
    """Each value repeated by its weight: index with int(random() * len) to draw one."""
    return [value for value, n in weights for _ in range(n)]


def pool(draw: Callable[[], float], size: int = 1024) -> list[float]:
    """Pre-drawn samples of a distribution; indexing a list is far cheaper than sampling."""
    return [draw() for _ in range(size)]


@dataclass
class BulkPlan:
    """Everything the row builders share for one seed_bulk call."""

    tenant_id: int
    users: dict[Role, int]
    batch: str  # random prefix: keys stay unique when seeding the same tenant twice
    now: float  # epoch seconds
    rng: random.Random = field(default_factory=random.Random)
    run_ids: list[int] = field(default_factory=list)

    def time_at(self, i: int, n: int) -> float:
        """Row i of n spread evenly (with jitter) over the last 90 days, oldest first."""
        span = SPAN_DAYS * DAY
        return self.now - span + span * (i + self.rng.random()) / max(n, 1) - 60
