"""What every demo seeding step needs: the tenant, its people, the clock and the dice."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from domain.base import Base
from domain.enums import Role
from domain.models import (
    AgentRun,
    Contract,
    Deal,
    Event,
    EventLink,
    Investigation,
    Invoice,
    Lead,
    NegotiationRound,
    Tenant,
    User,
)
from services.seed.vocab import TenantSpec


@dataclass
class Pipeline:
    leads: list[Lead] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    rounds: list[NegotiationRound] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)


@dataclass
class Incidents:
    investigations: list[Investigation] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    links: list[EventLink] = field(default_factory=list)


@dataclass
class DemoContext:
    """One tenant's seeding state; rows are flushed as they are made so ids can be referenced."""

    session: Session
    spec: TenantSpec
    tenant: Tenant
    users: dict[Role, User]
    rng: random.Random
    now: datetime
    pipeline: Pipeline = field(default_factory=Pipeline)
    incidents: Incidents = field(default_factory=Incidents)
    runs: list[AgentRun] = field(default_factory=list)

    @property
    def tenant_id(self) -> int:
        return self.tenant.id

    def user_id(self, role: Role) -> int:
        return self.users[role].id

    def save(self, rows: Sequence[Base]) -> None:
        """Add the rows to the one transaction and flush, so their ids are known."""
        self.session.add_all(rows)
        self.session.flush()
