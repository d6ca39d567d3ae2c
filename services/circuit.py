"""The one circuit-breaker rule, for model servers (kept in memory per process) and for ingest
connectors (kept on their health row, shared by every worker).

Closed until ``failures`` calls in a row have failed; then open, and calls fail fast, for
``cooldown_s``; then half-open: one trial call goes through. The trial's success closes the
breaker; its failure opens it again for another cool-down.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.enums import BreakerState


@dataclass(frozen=True)
class Rule:
    """A breaker's thresholds and the state they give."""

    failures: int
    cooldown_s: float

    def state(
        self, *, consecutive: int, opened_s_ago: float | None, trial_running: bool = False
    ) -> tuple[BreakerState, float]:
        """The state a new call meets and, while open, the seconds until a trial may go."""
        if consecutive < self.failures:
            return BreakerState.CLOSED, 0.0
        remaining = self.cooldown_s - (opened_s_ago if opened_s_ago is not None else 0.0)
        if remaining > 0:
            return BreakerState.OPEN, remaining
        if trial_running:  # one trial at a time: the others wait for its outcome
            return BreakerState.OPEN, self.cooldown_s
        return BreakerState.HALF_OPEN, 0.0

    def opens(self, consecutive: int, *, trial: bool) -> bool:
        """Whether a failure opens the breaker: the threshold's, or a half-open trial's."""
        return trial or consecutive >= self.failures
