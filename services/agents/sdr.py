"""SDR agent: a lead → an outreach e-mail draft to that lead's own address."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from domain.enums import ReviewKind, Risk
from domain.models import Lead
from services.agents.base import AgentRefused, Draft, Inputs, tenant_of
from services.agents.checks import checked


class OutreachDraft(BaseModel):
    subject: str = Field(min_length=3, max_length=200)
    body: str = Field(min_length=20, max_length=4000)
    confidence: float = Field(ge=0, le=1)
    risk: Risk


class SdrAgent:
    name = "sdr"
    kind = ReviewKind.OUTREACH_EMAIL
    subject_type = "lead"
    prompt_key = "sdr.outreach"
    output: type[BaseModel] = OutreachDraft

    def load(self, session: Session, subject_id: int) -> Inputs:
        lead = session.get(Lead, subject_id)
        if lead is None:
            raise AgentRefused(f"Lead #{subject_id} does not exist in this tenant.")
        if lead.do_not_contact:
            raise AgentRefused(f"Lead {lead.email} is marked do-not-contact; no outreach drafted.")
        tenant = tenant_of(session, lead.tenant_id)
        return Inputs(
            subject_type="lead",
            subject_id=lead.id,
            subject_label=f"{lead.name} <{lead.email}> · {lead.company}",
            values={
                "name": lead.name,
                "title": lead.title or "unknown",
                "company": lead.company,
                "industry": lead.industry or "unknown",
                "notes": lead.notes or "none",
                "tenant_name": tenant.name,
            },
            facts={"email": lead.email, "tenant_id": lead.tenant_id, "name": lead.name},
        )

    def drafts(self, inputs: Inputs, output: Any, session: Session) -> list[Draft]:
        assert isinstance(output, OutreachDraft)
        to = str(inputs.facts["email"])
        payload = {"to": to, "subject": output.subject, "body": output.body}
        lead = session.get(Lead, inputs.subject_id)
        checked(session, self.kind, lead, payload, inputs.context)
        return [
            Draft(
                kind=ReviewKind.OUTREACH_EMAIL,
                payload=payload,
                confidence=output.confidence,
                risk=output.risk,
                search_text=f"{inputs.facts['name']} {to} {output.subject}",
            )
        ]
