"""The agents by name, and what kind of subject each works on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.enums import AgentName
from domain.models import Deal, Investigation, Invoice, Lead
from services.agents.base import Agent
from services.agents.finance import FinanceAgent
from services.agents.investigator import InvestigatorAgent
from services.agents.negotiation import NegotiationAgent
from services.agents.sales import SalesAgent
from services.agents.sdr import SdrAgent

AGENTS: dict[AgentName, Agent] = {
    AgentName.SDR: SdrAgent(),
    AgentName.SALES: SalesAgent(),
    AgentName.NEGOTIATION: NegotiationAgent(),
    AgentName.FINANCE: FinanceAgent(),
    AgentName.INVESTIGATOR: InvestigatorAgent(),
}

_SUBJECTS: dict[str, Any] = {
    "lead": Lead,
    "deal": Deal,
    "invoice": Invoice,
    "investigation": Investigation,
}


def subject_exists(session: Session, subject_type: str, subject_id: int) -> bool:
    """Whether the subject exists in the session's tenant."""
    model = _SUBJECTS[subject_type]
    return session.scalar(select(model.id).where(model.id == subject_id)) is not None
