"""A circuit breaker per model server: after repeated failures, fail fast for a cool-down."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field


@dataclass
class CircuitBreaker:
    """Closed → open after ``failures`` transport failures in a row → half-open after cool-down.

    In half-open one call is let through; its success closes the breaker, its failure opens it
    again for another cool-down.
    """

    failures: int
    cooldown_s: float
    _consecutive: int = 0
    _open_until: float = 0.0
    _trial_running: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self) -> float | None:
        """None if a call may go ahead, else the seconds until the next trial."""
        with self._lock:
            if self._consecutive < self.failures:
                return None
            remaining = self._open_until - time.monotonic()
            if remaining > 0:
                return remaining
            if self._trial_running:
                return self.cooldown_s
            self._trial_running = True
            return None

    def success(self) -> None:
        with self._lock:
            self._consecutive = 0
            self._trial_running = False

    def failure(self) -> None:
        with self._lock:
            self._consecutive += 1
            self._trial_running = False
            if self._consecutive >= self.failures:
                self._open_until = time.monotonic() + self.cooldown_s

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._consecutive >= self.failures and time.monotonic() < self._open_until


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
