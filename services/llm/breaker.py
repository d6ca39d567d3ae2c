"""A circuit breaker per model server: after repeated failures, fail fast for a cool-down.

Why not pybreaker: its ``call`` holds the breaker's lock while the guarded call runs, so every
model call of a process (a minute each, from several worker threads) would queue behind the
one in flight; and its state stays "open" after the cool-down until some call is attempted,
while our workers do not claim runs while the breaker is open — nothing would ever try again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from domain.enums import BreakerState
from services.circuit import Rule


class BreakerOpen(Exception):
    """The breaker refused the call; ``wait_s`` is the time until it lets a trial through."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"circuit open for another {wait_s:.0f} s")
        self.wait_s = wait_s


@dataclass
class CircuitBreaker:
    """The shared rule (:class:`services.circuit.Rule`) kept in memory for one model server.

    :meth:`guard` records every outcome, so a half-open trial can never be left holding the
    breaker.
    """

    failures: int
    cooldown_s: float
    _consecutive: int = 0
    _opened_at: float | None = None
    _trial_running: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _state(self) -> tuple[BreakerState, float]:
        opened = None if self._opened_at is None else time.monotonic() - self._opened_at
        rule = Rule(failures=self.failures, cooldown_s=self.cooldown_s)
        return rule.state(
            consecutive=self._consecutive, opened_s_ago=opened, trial_running=self._trial_running
        )

    def allow(self) -> float | None:
        """None if a call may go ahead, else the seconds until the next trial."""
        with self._lock:
            state, wait = self._state()
            if state is BreakerState.OPEN:
                return wait
            if state is BreakerState.HALF_OPEN:
                self._trial_running = True
            return None

    def success(self) -> None:
        with self._lock:
            self._consecutive = 0
            self._opened_at = None
            self._trial_running = False

    def failure(self) -> None:
        with self._lock:
            self._consecutive += 1
            rule = Rule(failures=self.failures, cooldown_s=self.cooldown_s)
            if rule.opens(self._consecutive, trial=self._trial_running):
                self._opened_at = time.monotonic()
            self._trial_running = False

    @contextmanager
    def guard(self, *, alive: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
        """Run the block as one call through the breaker (or raise :class:`BreakerOpen`).

        The block's normal end, or one of the ``alive`` exceptions (the server answered, with a
        refusal), is a success; any other exception, whatever its type, is a failure.
        """
        wait = self.allow()
        if wait is not None:
            raise BreakerOpen(wait)
        try:
            yield
        except alive:
            self.success()
            raise
        except BaseException:
            self.failure()
            raise
        self.success()

    @property
    def is_open(self) -> bool:
        """True while calls fail fast: in the cool-down, or while the half-open trial runs."""
        with self._lock:
            return self._state()[0] is BreakerState.OPEN


_BREAKERS: dict[tuple[str, int, float], CircuitBreaker] = {}
_BREAKERS_LOCK = threading.Lock()


def for_url(url: str, *, failures: int, cooldown_s: float) -> CircuitBreaker:
    """The process-wide breaker of one model server (shared by every client of that URL)."""
    key = (url, failures, cooldown_s)
    with _BREAKERS_LOCK:
        breaker = _BREAKERS.get(key)
        if breaker is None:
            breaker = _BREAKERS[key] = CircuitBreaker(failures=failures, cooldown_s=cooldown_s)
        return breaker
