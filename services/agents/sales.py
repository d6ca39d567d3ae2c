"""Sales agent: a deal → a proposal (price, discount within the tenant's cap, terms)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from domain.enums import DealStage, ReviewKind, Risk
from domain.models import Deal, Lead
from services.agents.base import (
    AgentRefused,
    Draft,
    Inputs,
    max_discount_pct,
    risk_max,
    tenant_of,
)
from services.agents.checks import checked

CLOSED = {DealStage.CLOSED_WON, DealStage.CLOSED_LOST}
CENT = Decimal("0.01")


class ProposalDraft(BaseModel):
    discount_pct: Decimal = Field(ge=0, le=100, decimal_places=2)
    terms_summary: str = Field(min_length=20, max_length=2000)
    confidence: float = Field(ge=0, le=1)
    risk: Risk


def load_deal(session: Session, subject_id: int) -> tuple[Deal, dict[str, Any], dict[str, Any]]:
    """The deal, the prompt values every deal agent shares, and the facts to check against."""
    deal = session.get(Deal, subject_id)
    if deal is None:
        raise AgentRefused(f"Deal #{subject_id} does not exist in this tenant.")
    if deal.stage in CLOSED:
        raise AgentRefused(f"Deal {deal.name} is {deal.stage.value}; nothing to propose.")
    lead = session.get(Lead, deal.lead_id) if deal.lead_id else None
    cap = max_discount_pct(tenant_of(session, deal.tenant_id))
    values = {
        "deal_name": deal.name,
        "amount": f"{deal.amount:.2f}",
        "currency": deal.currency,
        "discount_pct": f"{deal.discount_pct:.2f}",
        "customer": f"{lead.name}, {lead.company}" if lead else "unknown",
        "max_discount_pct": f"{cap:.2f}",
    }
    facts = {"amount": deal.amount, "cap": cap, "tenant_id": deal.tenant_id, "name": deal.name}
    return deal, values, facts


def discount_risk(discount: Decimal, cap: Decimal) -> Risk:
    """The risk a discount within the cap carries (the cap itself is a review rule)."""
    return Risk.HIGH if cap and discount >= cap * Decimal("0.8") else Risk.LOW


class SalesAgent:
    name = "sales"
    kind = ReviewKind.DEAL_PROPOSAL
    subject_type = "deal"
    prompt_key = "sales.proposal"
    output: type[BaseModel] = ProposalDraft

    def load(self, session: Session, subject_id: int) -> Inputs:
        deal, values, facts = load_deal(session, subject_id)
        label = f"{deal.name} · {deal.amount:.2f} {deal.currency}"
        return Inputs("deal", deal.id, label, values, {**facts, "currency": deal.currency})

    def drafts(self, inputs: Inputs, output: Any, session: Session) -> list[Draft]:
        assert isinstance(output, ProposalDraft)
        f = inputs.facts
        list_price: Decimal = f["amount"]
        price = (list_price * (1 - output.discount_pct / 100)).quantize(CENT, ROUND_HALF_UP)
        payload = {
            "list_price": str(list_price),
            "price": str(price),
            "currency": f["currency"],
            "discount_pct": str(output.discount_pct),
            "terms_summary": output.terms_summary,
        }
        checked(session, self.kind, session.get(Deal, inputs.subject_id), payload, inputs.context)
        return [
            Draft(
                kind=ReviewKind.DEAL_PROPOSAL,
                payload=payload,
                confidence=output.confidence,
                risk=risk_max(output.risk, discount_risk(output.discount_pct, f["cap"])),
                search_text=f"{f['name']} proposal {price} {f['currency']}",
                amount=float(price),
            )
        ]
