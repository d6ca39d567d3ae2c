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
                prompt_tokens=stats.prompt_tokens,
                completion_tokens=stats.completion_tokens,
                attempts=stats.attempts,
                reasks=stats.reasks,
                repaired=stats.repaired,
                validation_errors=stats.validation_errors or None,
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
