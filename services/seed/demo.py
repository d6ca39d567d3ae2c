"""The demo data set: two tenants with a realistic month of pipeline, reviews, runs, incidents."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import func, select

from domain.base import Base, utcnow
from domain.enums import Role
from domain.models import (
    AgentRun,
    AuditEntry,
    Contract,
    Deal,
    EmailMessage,
    Event,
    EventLink,
    Investigation,
    Invoice,
    Lead,
    LLMCall,
    NegotiationRound,
    Prompt,
    ReviewItem,
    Tenant,
    User,
)
from services import audit
from services.errors import Conflict, InvalidInput
from services.seed.context import DemoContext
from services.seed.demo_emails import seed_emails
from services.seed.demo_investigations import seed_investigations
from services.seed.demo_pipeline import seed_pipeline
from services.seed.demo_prompts import seed_prompts
from services.seed.demo_review import seed_review_items
from services.seed.demo_runs import seed_runs
from services.seed.vocab import DEMO_TENANTS, TenantSpec
from services.uow import UnitOfWork

ALREADY_SEEDED = "Demo data is already present (tenants acme, globex); nothing was changed."
TABLES: dict[str, type[Base]] = {
    "tenants": Tenant,
    "users": User,
    "leads": Lead,
    "deals": Deal,
    "negotiation_rounds": NegotiationRound,
    "contracts": Contract,
    "invoices": Invoice,
    "email_messages": EmailMessage,
    "prompts": Prompt,
    "agent_runs": AgentRun,
    "llm_calls": LLMCall,
    "review_items": ReviewItem,
    "investigations": Investigation,
    "events": Event,
    "event_links": EventLink,
    "audit_entries": AuditEntry,
}


class DemoSeedReport(BaseModel):
    """Rows written per table (both demo tenants together)."""

    tenants: int
    users: int
    leads: int
    deals: int
    negotiation_rounds: int
    contracts: int
    invoices: int
    email_messages: int
    prompts: int
    agent_runs: int
    llm_calls: int
    review_items: int
    investigations: int
    events: int
    event_links: int
    audit_entries: int
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(getattr(self, name) for name in TABLES)


def seed_demo(*, now: datetime | None = None) -> DemoSeedReport:
    """Seed the acme and globex demo tenants in one transaction; Conflict if they exist."""
    now = now or utcnow()
    if now.tzinfo is None or now.utcoffset() != timedelta(0):
        raise InvalidInput("The seed clock must be an aware UTC datetime.")
    started = time.perf_counter()
    slugs = [spec.slug for spec in DEMO_TENANTS]
    with UnitOfWork(None) as uow:
        s = uow.session
        if s.scalars(select(Tenant.id).where(Tenant.slug.in_(slugs))).first() is not None:
            raise Conflict(ALREADY_SEEDED)
        tenant_ids = [_seed_tenant(uow, spec, now) for spec in DEMO_TENANTS]
        counts = {"tenants": len(tenant_ids)}
        for name, model in list(TABLES.items())[1:]:
            column = model.__table__.c.tenant_id
            query = select(func.count()).select_from(model).where(column.in_(tenant_ids))
            counts[name] = int(s.scalar(query) or 0)
        uow.commit()
    return DemoSeedReport(**counts, seconds=round(time.perf_counter() - started, 3))


def _seed_tenant(uow: UnitOfWork, spec: TenantSpec, now: datetime) -> int:
    s = uow.session
    founded = now - timedelta(days=180)
    tenant = Tenant(
        slug=spec.slug,
        name=spec.name,
        settings={"timezone": "Europe/Berlin", "default_currency": "EUR", "demo": True},
        created_at=founded,
    )
    s.add(tenant)
    s.flush()
    users = {
        role: User(
            tenant_id=tenant.id,
            email=f"{role.value}@{spec.domain}",
            display_name=spec.staff[role],
            role=role,
            is_active=True,
            created_at=founded + timedelta(minutes=5),
        )
        for role in Role
    }
    s.add_all(users.values())
    s.flush()
    entry = audit.record(
        uow,
        action="tenant.created",
        entity_type="tenant",
        entity_id=tenant.id,
        after={"slug": spec.slug, "name": spec.name, "users": [u.email for u in users.values()]},
        reason="demo seed",
        tenant_id=tenant.id,
    )
    entry.created_at = founded
    # One generator per tenant, seeded by slug: the same demo every time, whatever else exists.
    ctx = DemoContext(s, spec, tenant, users, random.Random(f"revo-demo:{spec.slug}"), now)
    seed_pipeline(ctx)
    seed_investigations(ctx)
    seed_prompts(ctx)
    seed_runs(ctx)
    items = seed_review_items(ctx)
    seed_emails(ctx, items)
    return tenant.id
