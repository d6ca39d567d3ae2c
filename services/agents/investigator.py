"""Investigator agent: an investigation and its events → ranked, cited root-cause hypotheses."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.enums import LinkStatus, ReviewKind, Risk, Severity
from domain.models import Event, EventLink, Investigation
from services.agents.base import AgentRefused, Draft, DraftRejected, Inputs
from services.agents.checks import checked

MAX_EVENTS = 200


class Hypothesis(BaseModel):
    title: str = Field(min_length=3, max_length=300)
    explanation: str = Field(min_length=10, max_length=3000)
    confidence: float = Field(ge=0, le=1)
    event_ids: list[int] = Field(min_length=1, max_length=50)


class RcaDraft(BaseModel):
    summary: str = Field(min_length=10, max_length=3000)
    hypotheses: list[Hypothesis] = Field(min_length=1, max_length=5)


class InvestigatorAgent:
    name = "investigator"
    kind = ReviewKind.RCA_HYPOTHESIS
    subject_type = "investigation"
    prompt_key = "investigator.rca"
    output: type[BaseModel] = RcaDraft

    def load(self, session: Session, subject_id: int) -> Inputs:
        inv = session.get(Investigation, subject_id)
        if inv is None:
            raise AgentRefused(f"Investigation #{subject_id} does not exist in this tenant.")
        events = session.scalars(
            select(Event)
            .join(EventLink, EventLink.event_id == Event.id)
            .where(EventLink.investigation_id == inv.id, EventLink.status != LinkStatus.REJECTED)
            .order_by(Event.occurred_at)
            .limit(MAX_EVENTS)
        ).all()
        if not events:
            raise AgentRefused(f"Investigation {inv.title!r} has no events to reason about.")
        lines = "\n".join(
            f"{e.id} | {e.occurred_at:%Y-%m-%d %H:%M:%S} | {e.source.value} | "
            f"{e.severity.value} | {e.service or '-'} | {e.title}"
            for e in events
        )
        values = {
            "title": inv.title,
            "severity": inv.severity.value,
            "service": inv.service or "unknown",
            "description": inv.description or "none",
            "events": lines,
        }
        facts = {
            "event_ids": {e.id for e in events},
            "tenant_id": inv.tenant_id,
            "severity": inv.severity,
            "title": inv.title,
        }
        return Inputs("investigation", inv.id, inv.title, values, facts)

    def drafts(self, inputs: Inputs, output: Any, session: Session) -> list[Draft]:
        assert isinstance(output, RcaDraft)
        f = inputs.facts
        known: set[int] = f["event_ids"]
        cited = [h for h in output.hypotheses if set(h.event_ids) <= known]
        if not cited:
            raise DraftRejected("No hypothesis cited only events of this investigation.")
        ranked = sorted(cited, key=lambda h: h.confidence, reverse=True)
        risk = Risk.HIGH if f["severity"] in {Severity.CRITICAL, Severity.HIGH} else Risk.MEDIUM
        drafts = []
        investigation = session.get(Investigation, inputs.subject_id)
        for rank, h in enumerate(ranked, start=1):
            payload = {
                "summary": output.summary,
                "rank": rank,
                "title": h.title,
                "explanation": h.explanation,
                "event_ids": sorted(set(h.event_ids)),
                "dropped_hypotheses": len(output.hypotheses) - len(cited),
            }
            checked(session, self.kind, investigation, payload, inputs.context)
            drafts.append(
                Draft(
                    kind=ReviewKind.RCA_HYPOTHESIS,
                    payload=payload,
                    confidence=h.confidence,
                    risk=risk,
                    search_text=f"{f['title']} {h.title}",
                    priority=rank,
                )
            )
        return drafts
