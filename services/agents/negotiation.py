"""Negotiation agent: a deal and its rounds → our counter-offer, within the discount cap."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.enums import ReviewKind, Risk
from domain.models import Deal, NegotiationRound
from services.agents.base import Draft, Inputs, risk_max
from services.agents.checks import checked
from services.agents.sales import discount_risk, load_deal


class CounterOfferDraft(BaseModel):
    amount: Decimal = Field(gt=0, decimal_places=2)
    discount_pct: Decimal = Field(ge=0, le=100, decimal_places=2)
    message: str = Field(min_length=20, max_length=2000)
    confidence: float = Field(ge=0, le=1)
    risk: Risk


class NegotiationAgent:
    name = "negotiation"
    kind = ReviewKind.COUNTER_OFFER
    subject_type = "deal"
    prompt_key = "negotiation.counter"
    output: type[BaseModel] = CounterOfferDraft

    def load(self, session: Session, subject_id: int) -> Inputs:
        deal, values, facts = load_deal(session, subject_id)
        rounds = session.scalars(
            select(NegotiationRound)
            .where(NegotiationRound.deal_id == deal.id)
            .order_by(NegotiationRound.round_no)
        ).all()
        values["rounds"] = (
            "\n".join(
                f"round {r.round_no}: {r.party.value} offered {r.amount:.2f} "
                f"({r.discount_pct:.2f}% off) {r.terms or ''}".rstrip()
                for r in rounds
            )
            or "no rounds yet"
        )
        label = f"{deal.name} · round {len(rounds) + 1}"
        facts = {**facts, "currency": deal.currency, "next_round": len(rounds) + 1}
        return Inputs("deal", deal.id, label, values, facts)

    def drafts(self, inputs: Inputs, output: Any, session: Session) -> list[Draft]:
        assert isinstance(output, CounterOfferDraft)
        f = inputs.facts
        payload = {
            "round_no": f["next_round"],
            "amount": str(output.amount),
            "currency": f["currency"],
            "discount_pct": str(output.discount_pct),
            "message": output.message,
        }
        checked(session, self.kind, session.get(Deal, inputs.subject_id), payload, inputs.context)
        return [
            Draft(
                kind=ReviewKind.COUNTER_OFFER,
                payload=payload,
                confidence=output.confidence,
                risk=risk_max(output.risk, discount_risk(output.discount_pct, f["cap"])),
                search_text=f"{f['name']} counter-offer {output.amount} {f['currency']}",
                amount=float(output.amount),
                priority=1,
            )
        ]
