"""Tenants in a time zone, and activity placed at chosen moments: one run, one LLM call of it and
one decided draft per moment (all three at that moment), for the time-zone metrics tests."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from domain.enums import (
    AgentName,
    LLMMode,
    LLMOutcome,
    ReviewKind,
    ReviewStatus,
    Role,
    RunStatus,
    RunTrigger,
)
from domain.models import AgentRun, LLMCall, ReviewItem, Tenant
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork


def set_zone(tenant_id: int, name: str) -> None:
    """Store the tenant's time zone as the seed does (tenant setting ``timezone``)."""
    with UnitOfWork(None) as uow:
        tenant = uow.session.scalars(select(Tenant).where(Tenant.id == tenant_id)).one()
        tenant.settings = {**(tenant.settings or {}), "timezone": name}
        uow.commit()


def place(tenant: TenantWithUsers, moments: list[datetime], tag: str = "z") -> None:
    """One run, LLM call and approved draft per moment."""
    tid = tenant.tenant.id
    with UnitOfWork(None) as uow:
        for n, moment in enumerate(moments):
            run = AgentRun(
                tenant_id=tid, agent=AgentName.SDR, trigger=RunTrigger.MANUAL,
                subject_type="lead", subject_id=1, idempotency_key=f"{tag}{n}-{tid}",
                status=RunStatus.SUCCEEDED, attempts=1, created_at=moment, duration_ms=1000,
            )  # fmt: skip
            uow.session.add(run)
            uow.session.flush()
            uow.session.add(
                LLMCall(
                    tenant_id=tid, run_id=run.id, prompt_key="sdr.outreach", prompt_version=1,
                    prompt_hash="0" * 64, model="llama3.2", mode=LLMMode.JSON,
                    latency_ms=1000 + n, prompt_tokens=10, completion_tokens=5,
                    outcome=LLMOutcome.OK, created_at=moment,
                )
            )  # fmt: skip
            uow.session.add(
                ReviewItem(
                    tenant_id=tid, kind=ReviewKind.OUTREACH_EMAIL, status=ReviewStatus.APPROVED,
                    subject_type="lead", subject_id=1, subject_label=f"Lead {n}", payload={},
                    original_payload={}, confidence=0.5, due_at=moment, run_id=run.id,
                    drafted_by="sdr", created_at=moment, decided_at=moment,
                    decided_by_id=tenant.users[Role.REVIEWER].id,
                )
            )  # fmt: skip
        uow.commit()


def per_day(buckets: list[tuple[datetime, int]], zone: str) -> dict[date, int]:
    """Counts per local date of each bucket's start, checking every start is local midnight."""
    out: Counter[date] = Counter()
    for start, n in buckets:
        local = start.astimezone(ZoneInfo(zone))
        assert (local.hour, local.minute) == (0, 0), f"{start} is not a midnight in {zone}"
        out[local.date()] += n
    return dict(out)
