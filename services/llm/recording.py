"""Writes one LLM call row per call, in its own short transaction. Never fails the call."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from domain.enums import LLMMode, LLMOutcome
from domain.models import LLMCall
from services.uow import UnitOfWork

log = logging.getLogger(__name__)

RAW_LIMIT = 20_000


@dataclass(frozen=True)
class CallContext:
    """Who a call is for: the tenant, the run (if any) and the prompt version used."""

    tenant_id: int
    prompt_key: str
    prompt_version: int
    prompt_hash: str
    run_id: int | None = None


@dataclass
class CallStats:
    """What happened during one call; filled in as the call goes."""

    attempts: int = 0
    reasks: int = 0
    repaired: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    validation_errors: list[dict[str, Any]] = field(default_factory=list)
    failed_outputs: list[str] = field(default_factory=list)
    usage_unknown: bool = False  # some answer's usage block was malformed: counts are incomplete
    load_ms: int | None = None  # the model load measured before the call; None: none measured


USAGE_UNKNOWN = {
    "loc": "usage",
    "msg": "the server's token counts were malformed; that answer's tokens are unknown "
    "(not counted)",
    "type": "usage_unknown",
}


# Token counts beyond this are not counts (and would overflow the call row's integer column).
_MAX_TOKENS = 100_000_000


def _token_count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != value or not 0 <= value <= _MAX_TOKENS or value != int(value):
        return None
    return int(value)


def add_usage(stats: CallStats, usage: Any) -> None:
    """Add a usage block's token counts; a malformed one leaves them unknown (counted as 0)."""
    if usage is None:  # not sent at all: nothing to add, as before
        return
    if not isinstance(usage, dict):
        stats.usage_unknown = True
        return
    prompt, completion = (
        _token_count(usage.get(k, 0)) for k in ("prompt_tokens", "completion_tokens")
    )
    if prompt is None or completion is None:
        stats.usage_unknown = True
        return
    stats.prompt_tokens += prompt
    stats.completion_tokens += completion


def record(
    ctx: CallContext,
    *,
    model: str,
    mode: LLMMode,
    latency_ms: int,
    stats: CallStats,
    outcome: LLMOutcome,
    error: str | None = None,
) -> int | None:
    """Insert the call's row and return its id; on any failure log it and return None."""
    raw = "\n---\n".join(stats.failed_outputs)[-RAW_LIMIT:] if stats.failed_outputs else None
    errors = stats.validation_errors + ([USAGE_UNKNOWN] if stats.usage_unknown else [])
    try:
        with UnitOfWork(None) as uow:
            row = LLMCall(
                tenant_id=ctx.tenant_id,
                run_id=ctx.run_id,
                prompt_key=ctx.prompt_key,
                prompt_version=ctx.prompt_version,
                prompt_hash=ctx.prompt_hash,
                model=model,
                mode=mode,
                latency_ms=latency_ms,
                load_ms=stats.load_ms,
                prompt_tokens=stats.prompt_tokens,
                completion_tokens=stats.completion_tokens,
                attempts=stats.attempts,
                reasks=stats.reasks,
                repaired=stats.repaired,
                validation_errors=errors or None,
                outcome=outcome,
                error=error,
                raw_output=raw if outcome is not LLMOutcome.OK else None,
            )
            uow.session.add(row)
            uow.commit()
            return row.id
    except Exception:  # recording is best effort by design: the call's result matters more
        log.warning("could not record LLM call for tenant %s", ctx.tenant_id, exc_info=True)
        return None
