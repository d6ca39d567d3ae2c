"""Recorded LLM calls with and without a model load, for the Models page's load figures."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.enums import LLMMode, LLMOutcome
from domain.models import LLMCall
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork


def _call(
    tenant_id: int, model: str, load_ms: int | None, days_ago: float, now: datetime
) -> LLMCall:
    return LLMCall(
        tenant_id=tenant_id, prompt_key="k", prompt_version=1, prompt_hash="h", model=model,
        mode=LLMMode.JSON_SCHEMA, latency_ms=1000, completion_tokens=10, outcome=LLMOutcome.OK,
        load_ms=load_ms, created_at=now - timedelta(days=days_ago),
    )  # fmt: skip


def seed_loads(north: TenantWithUsers, south: TenantWithUsers, now: datetime) -> None:
    """llama3.2: loads 900, 300, 1200, 600 (oldest first) in the week, and a call without a
    load; one older load outside the window; qwen2.5: calls, no load; south: a decoy load."""
    n, s = north.tenant.id, south.tenant.id
    with UnitOfWork(None) as uow:
        uow.session.add_all(
            [
                _call(n, "llama3.2", 900, 3, now),
                _call(n, "llama3.2", None, 2.5, now),
                _call(n, "llama3.2", 300, 2, now),
                _call(n, "llama3.2", 1200, 1.5, now),
                _call(n, "llama3.2", 600, 1, now),
                _call(n, "llama3.2", 99_999, 10, now),
                _call(n, "qwen2.5", None, 1, now),
                _call(s, "llama3.2", 77_777, 1, now),
            ]
        )
        uow.commit()
