"""Queued agent runs and the model answer that completes them."""

from __future__ import annotations

import json

from domain.enums import AgentName, Role
from services import runs
from services.tenants import TenantWithUsers
from tests import agent_data

OUTREACH = json.dumps(
    {
        "subject": "A faster close for Acme",
        "body": "Hello Ada, I noticed Acme is growing its platform team. Could we talk Tuesday?",
        "confidence": 0.7,
        "risk": "low",
    }
)


def enqueue_leads(tenant: TenantWithUsers, n: int, **kw: int) -> list[int]:
    """Queue an SDR run for each of n new leads of the tenant: the runs' ids."""
    actor = tenant.actor(Role.SDR)
    ids = []
    for i in range(n):
        lead_id = agent_data.lead(tenant.tenant.id, email=f"lead{i}@acme.test")
        ids.append(runs.enqueue(actor=actor, agent=AgentName.SDR, subject_id=lead_id, **kw).id)  # type: ignore[arg-type]
    return ids
