"""Agents on the demo tenants: every agent fills in the demo's active prompt version."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from domain.enums import AgentName, DealStage, InvoiceStatus, ReviewKind, ReviewStatus, Role
from domain.models import Deal, EventLink, Invoice, Lead, LLMCall, Prompt, ReviewItem, Tenant
from services import db, runs, worker
from services.seed import demo
from services.tenants import admin_actor
from tests.scripted_llm import ScriptedLLM, configured


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedLLM]:
    server = ScriptedLLM()  # no answers: each call fails after the prompt was rendered and sent
    with configured(monkeypatch, server):
        yield server
    server.close()


def test_every_agent_renders_the_demo_tenants_active_prompt(db_url: str, llm: ScriptedLLM) -> None:
    demo.seed_demo()
    with db.session_factory()() as s:
        tenant_id = s.scalars(select(Tenant.id).where(Tenant.slug == "acme")).one()
        mine = (Lead.tenant_id == tenant_id,)

        def free(subject_type: str, kind: ReviewKind, column: Any) -> Any:
            # A subject with a pending draft of the agent's kind gets no second one (the run is
            # refused before the model is asked), so pick subjects the demo left free.
            busy = select(ReviewItem.subject_id).where(
                ReviewItem.kind == kind,
                ReviewItem.status == ReviewStatus.PENDING,
                ReviewItem.subject_type == subject_type,
            )
            return column.not_in(busy)

        subjects = {
            AgentName.SDR: s.scalars(
                select(Lead.id).where(
                    *mine, ~Lead.do_not_contact, free("lead", ReviewKind.OUTREACH_EMAIL, Lead.id)
                )
            ).first(),
            AgentName.SALES: s.scalars(
                select(Deal.id).where(
                    Deal.tenant_id == tenant_id,
                    Deal.stage == DealStage.PROPOSAL,
                    free("deal", ReviewKind.DEAL_PROPOSAL, Deal.id),
                )
            ).first(),
            AgentName.NEGOTIATION: s.scalars(
                select(Deal.id).where(
                    Deal.tenant_id == tenant_id,
                    Deal.stage == DealStage.NEGOTIATION,
                    free("deal", ReviewKind.COUNTER_OFFER, Deal.id),
                )
            ).first(),
            AgentName.FINANCE: s.scalars(
                select(Invoice.id).where(
                    Invoice.tenant_id == tenant_id,
                    Invoice.status == InvoiceStatus.OVERDUE,
                    Invoice.dunning_level < 3,
                    free("invoice", ReviewKind.DUNNING_NOTICE, Invoice.id),
                )
            ).first(),
            AgentName.INVESTIGATOR: s.scalars(
                select(EventLink.investigation_id).where(
                    EventLink.tenant_id == tenant_id,
                    free("investigation", ReviewKind.RCA_HYPOTHESIS, EventLink.investigation_id),
                )
            ).first(),
        }
        active = dict(
            s.execute(
                select(Prompt.key, Prompt.version).where(
                    Prompt.tenant_id == tenant_id, Prompt.is_active
                )
            ).all()
        )
    assert all(subjects.values()), subjects
    actor = admin_actor(slug="acme")
    ids = {
        agent: runs.enqueue(actor=actor, agent=agent, subject_id=sid, max_attempts=1).id
        for agent, sid in subjects.items()
        if sid is not None
    }
    worker.run_worker(worker_id="demo", once=True)
    # (the demo also seeds queued and retrying runs; the worker drains those too)
    with db.session_factory()() as s:
        for agent, run_id in ids.items():
            call = s.scalars(select(LLMCall).where(LLMCall.run_id == run_id)).one_or_none()
            assert call is not None, f"{agent}: the prompt never reached the model"
            assert call.prompt_version == active[call.prompt_key], agent
    assert actor.role is Role.ADMIN
