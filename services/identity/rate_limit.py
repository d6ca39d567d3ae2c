"""A per-address limit on failed sign-ins, beside the per-account lockout: it slows one address
trying many accounts (credential stuffing), which a per-account lockout never sees.

Kept in this process's memory: each console replica counts on its own, and a restart forgets.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_ADDRESSES = 50_000  # a flood of spoofed addresses cannot grow this without bound


class FailureWindow:
    """Failed attempts per client address within a sliding time window."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def clear(self) -> None:
        """Forget every address."""
        with self._lock:
            self._failures.clear()

    def _recent(self, address: str, now: float, window_s: float) -> deque[float]:
        times = self._failures.get(address, deque())
        while times and now - times[0] >= window_s:
            times.popleft()
        return times

    def retry_after(self, address: str, *, limit: int, window_s: float) -> float:
        """Seconds until the address may try again (0 when it may now)."""
        now = self._clock()
        with self._lock:
            times = self._recent(address, now, window_s)
            if len(times) < limit:
                return 0.0
            return max(0.0, window_s - (now - times[-limit]))

    def record_failure(self, address: str, *, window_s: float) -> None:
        """Count one failed sign-in from the address."""
        now = self._clock()
        with self._lock:
            if address not in self._failures and len(self._failures) >= MAX_ADDRESSES:
                oldest = min(self._failures, key=lambda a: self._failures[a][-1])
                del self._failures[oldest]
            times = self._recent(address, now, window_s)
            times.append(now)
            self._failures[address] = times


FAILURES = FailureWindow()
