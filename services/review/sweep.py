"""The review queue's SLA sweep as a worker tick (services/worker drives it)."""

from __future__ import annotations

import logging
import time

from services.errors import ServiceError

log = logging.getLogger(__name__)


class Sweep:
    """The review queue's SLA sweep (expire items, free lapsed claims), run by every worker
    at most once per interval; concurrent sweeps skip each other's rows."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._next = 0.0

    def maybe_run(self) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.interval_s
        from services.review.drafts import expire_overdue

        try:
            changed = expire_overdue()
        except ServiceError as exc:  # busy database, a lost race: the next sweep gets it
            log.warning("review sweep failed: %s", exc.message)
            return
        if changed:
            log.info("review sweep expired or released %s items", changed)
