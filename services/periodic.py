"""A job every worker runs at most once per interval (the SLA sweep, schedules, audit anchors).

A ServiceError (a busy database, a lost race, a missing setting) is logged and the next tick
tries again; the job's own summary, when it has one, goes to the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from services.errors import ServiceError

log = logging.getLogger(__name__)


class Periodic:
    """Runs ``job`` from the worker loop's ``maybe_run`` once ``interval_s`` has passed."""

    def __init__(
        self, name: str, job: Callable[[], str | None], interval_s: float, *, delay_s: float = 0.0
    ) -> None:
        self.name = name
        self.job = job
        self.interval_s = interval_s
        self._next = time.monotonic() + delay_s

    def maybe_run(self) -> None:
        """Run the job if it is due."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.interval_s
        try:
            summary = self.job()
        except ServiceError as exc:
            log.warning("%s skipped: %s", self.name, exc.message)
            return
        if summary:
            log.info("%s: %s", self.name, summary)
