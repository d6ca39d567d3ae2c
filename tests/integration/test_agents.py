"""Each agent end to end through the queue: scripted model on loopback, real databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.enums import AgentName, LLMOutcome, ReviewKind, Role, RunStatus
from domain.models import LLMCall, ReviewItem
from services import db, prompts, review, runs, worker
from services.errors import PermissionDenied
from services.tenants import TenantWithUsers
from tests import agent_data
from tests.scripted_llm import ScriptedLLM, configured

OUTREACH = {
    "subject": "A faster close for Acme",
    "body": "Hello Ada, I noticed Acme is growing its platform team. Could we talk Tuesday?",
    "confidence": 0.7,
    "risk": "low",
}


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedLLM]:
    server = ScriptedLLM()
    with configured(monkeypatch, server):
        yield server
    server.close()


def items() -> list[ReviewItem]:
    with db.session_factory()() as session:
        return list(session.scalars(select(ReviewItem).order_by(ReviewItem.id)))


def calls() -> list[LLMCall]:
    with db.session_factory()() as session:
        return list(session.scalars(select(LLMCall).order_by(LLMCall.id)))


def run_once(agent: AgentName, subject_id: int, tenant: TenantWithUsers, role: Role = Role.ADMIN,
             **kw: int) -> runs.RunRead:  # fmt: skip
    actor = tenant.actor(role)
    run = runs.enqueue(actor=actor, agent=agent, subject_id=subject_id, **kw)  # type: ignore[arg-type]
    worker.run_worker(worker_id="test-worker", once=True)
    return runs.get_run(actor=actor, run_id=run.id)


def test_sdr_drafts_outreach_to_the_leads_own_address_with_its_llm_call(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    north = two_tenants[0]
    llm.answers["OutreachDraft"] = json.dumps(OUTREACH)
    lead_id = agent_data.lead(north.tenant.id)
    run = run_once(AgentName.SDR, lead_id, north, Role.SDR)
    assert (run.status, run.attempts, run.error) == (RunStatus.SUCCEEDED, 1, None)
    [item] = items()
    assert (item.kind, item.subject_type, item.subject_id) == (
        ReviewKind.OUTREACH_EMAIL,
        "lead",
        lead_id,
    )
    assert item.payload["to"] == "ada@acme.test" and item.payload == item.original_payload
    assert (item.run_id, item.drafted_by, item.confidence) == (run.id, "sdr", 0.7)
    assert item.triggered_by_id == north.users[Role.SDR].id
    assert "ada@acme.test" in item.search_text
    sla, expiry = item.due_at - item.created_at, item.expires_at - item.created_at
    assert (sla, expiry) == (timedelta(hours=24), timedelta(days=7))  # the tenant's policy
    detail = review.get_item(actor=north.actor(Role.REVIEWER), item_id=item.id)
    assert [e.action for e in detail.audit] == ["review.submitted"]
    [call] = calls()
    active = prompts.list_prompts(actor=north.actor(Role.ADMIN), key="sdr.outreach")[0]
    assert (call.run_id, call.prompt_key, call.prompt_version) == (run.id, "sdr.outreach", 1)
    assert (call.prompt_hash, call.outcome) == (active.hash, LLMOutcome.OK)
    assert "Ada Lovelace" in llm.requests[0]["messages"][1]["content"]


def test_do_not_contact_lead_is_refused_without_asking_the_model(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    north = two_tenants[0]
    run = run_once(AgentName.SDR, agent_data.lead(north.tenant.id, dnc=True), north)
    assert run.status is RunStatus.DEAD and run.error and "do-not-contact" in run.error
    assert items() == [] and llm.requests == []


@pytest.mark.parametrize(
    "leak", ["Loop in our friends at South plc too.", "Also cc bob@elsewhere.test please."]
)
def test_outreach_naming_another_tenant_or_address_never_reaches_the_queue(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers], leak: str
) -> None:
    north = two_tenants[0]
    llm.answers["OutreachDraft"] = json.dumps({**OUTREACH, "body": OUTREACH["body"] + " " + leak})
    run = run_once(AgentName.SDR, agent_data.lead(north.tenant.id), north, max_attempts=1)
    assert run.status is RunStatus.DEAD and run.error and "mentions" in run.error
    assert items() == []


def test_outreach_may_sign_with_the_senders_address_and_name_the_leads_own_company(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    north = two_tenants[0]
    body = f"{OUTREACH['body']} Best, Sam (sdr@north.test). PS: South plc looks busy!"
    llm.answers["OutreachDraft"] = json.dumps({**OUTREACH, "body": body})
    lead_id = agent_data.lead(north.tenant.id, company="South plc")
    run = run_once(AgentName.SDR, lead_id, north, max_attempts=1)
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert len(items()) == 1


def test_sales_proposal_within_the_cap_gets_a_computed_price(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    north = two_tenants[0]
    terms = "Annual licence, net 30 payment, onboarding included for the first quarter."
    llm.answers["ProposalDraft"] = json.dumps(
        {"discount_pct": 10, "terms_summary": terms, "confidence": 0.6, "risk": "low"}
    )
    run = run_once(AgentName.SALES, agent_data.deal(north.tenant.id), north, Role.SALES)
    assert run.status is RunStatus.SUCCEEDED
    [item] = items()
    assert item.kind is ReviewKind.DEAL_PROPOSAL and item.amount == 9000.0
    assert item.payload["price"] == "9000.00" and item.payload["discount_pct"] == "10"


def test_sales_proposal_above_the_tenants_cap_is_rejected(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    north = two_tenants[0]
    agent_data.set_discount_cap(north.tenant.id, 15)
    terms = "Annual licence, net 30 payment, onboarding included for the first quarter."
    llm.answers["ProposalDraft"] = json.dumps(
        {"discount_pct": 25, "terms_summary": terms, "confidence": 0.6, "risk": "low"}
    )
    run = run_once(AgentName.SALES, agent_data.deal(north.tenant.id), north, max_attempts=1)
    assert run.status is RunStatus.DEAD and run.error and "cap is 15%" in run.error
    assert items() == []
    assert "15.00 percent" in llm.requests[0]["messages"][0]["content"]


@pytest.mark.parametrize(("amount", "ok"), [(8500, True), (7000, False), (12000, False)])
def test_counter_offer_must_stay_between_the_floor_and_the_list_price(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers], amount: int, ok: bool
) -> None:
    north = two_tenants[0]
    message = "We can meet you part of the way if you sign this quarter."
    llm.answers["CounterOfferDraft"] = json.dumps(
        {
            "amount": amount,
            "discount_pct": 15,
            "message": message,
            "confidence": 0.5,
            "risk": "medium",
        }
    )
    deal_id = agent_data.deal(north.tenant.id, rounds=2)
    run = run_once(AgentName.NEGOTIATION, deal_id, north, max_attempts=1)
    assert (run.status is RunStatus.SUCCEEDED) is ok
    assert len(items()) == (1 if ok else 0)
    assert "round 2: us offered 8000.00" in llm.requests[0]["messages"][1]["content"]
    if ok:
        assert items()[0].payload["round_no"] == 3


@pytest.mark.parametrize(
    ("amount", "due", "ok"),
    [
        ("1234.50", "2026-10-01", True),
        ("1234.00", "2026-10-01", False),
        ("1234.50", "2026-10-15", False),
    ],
)
def test_dunning_notice_must_state_the_invoices_amount_and_due_date(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers], amount: str, due: str,
    ok: bool,
) -> None:  # fmt: skip
    north = two_tenants[0]
    body = f"Dear Acme, invoice INV-2026-0042 for EUR {amount} was due on {due}. Please pay."
    llm.answers["DunningDraft"] = json.dumps(
        {"subject": "Payment reminder", "body": body, "stated_amount": amount,
         "stated_due_date": due, "confidence": 0.9}
    )  # fmt: skip
    invoice_id = agent_data.overdue_invoice(north.tenant.id, level=1)
    six_hours = {"sla_hours": {"dunning_notice": 6}}
    review.update_policy(actor=north.actor(Role.ADMIN), policy_in=six_hours)
    run = run_once(AgentName.FINANCE, invoice_id, north, Role.FINANCE, max_attempts=1)
    assert (run.status is RunStatus.SUCCEEDED) is ok
    if ok:
        [item] = items()
        assert item.payload["level"] == 2 and item.payload["to"] == "ap@acme.test"
        assert (item.kind, item.amount) == (ReviewKind.DUNNING_NOTICE, 1234.5)
        assert item.due_at - item.created_at == timedelta(hours=6)  # the tenant's own SLA
    else:
        assert items() == [] and run.error and "states" in run.error


def test_investigator_drops_hypotheses_citing_events_outside_the_investigation(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    north, south = two_tenants
    inv_id, events = agent_data.investigation_with_events(north.tenant.id)
    _, foreign = agent_data.investigation_with_events(south.tenant.id)
    hypotheses = [
        {"title": "Bad deploy", "explanation": "Errors began right after the deploy.",
         "confidence": 0.4, "event_ids": events[:2]},
        {"title": "Database saturation", "explanation": "Pool exhausted under load.",
         "confidence": 0.8, "event_ids": [events[2]]},
        {"title": "Made up", "explanation": "Cites an event of another tenant.",
         "confidence": 0.9, "event_ids": [foreign[0]]},
    ]  # fmt: skip
    llm.answers["RcaDraft"] = json.dumps(
        {"summary": "Checkout failed for 10 min.", "hypotheses": hypotheses}
    )
    run = run_once(AgentName.INVESTIGATOR, inv_id, north, Role.REVIEWER)
    assert run.status is RunStatus.SUCCEEDED
    ranked = [(i.payload["rank"], i.payload["title"]) for i in items()]
    assert ranked == [(1, "Database saturation"), (2, "Bad deploy")]
    assert all(i.payload["dropped_hypotheses"] == 1 for i in items())
    assert f"{events[0]} |" in llm.requests[0]["messages"][1]["content"]


def test_roles_may_only_trigger_their_own_agents_on_their_own_tenants_subjects(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    north, south = two_tenants
    lead_id = agent_data.lead(north.tenant.id)
    with pytest.raises(PermissionDenied):
        runs.enqueue(actor=north.actor(Role.FINANCE), agent=AgentName.SDR, subject_id=lead_id)
    with pytest.raises(PermissionDenied):
        runs.enqueue(actor=north.actor(Role.VIEWER), agent=AgentName.SDR, subject_id=lead_id)
    from services.errors import NotFound

    with pytest.raises(NotFound):
        runs.enqueue(actor=south.actor(Role.ADMIN), agent=AgentName.SDR, subject_id=lead_id)


def test_a_second_run_for_a_lead_with_a_pending_draft_ends_without_a_second_draft(
    llm: ScriptedLLM, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    north = two_tenants[0]
    llm.answers["OutreachDraft"] = json.dumps(OUTREACH)
    lead_id = agent_data.lead(north.tenant.id)
    first = run_once(AgentName.SDR, lead_id, north, Role.SDR)
    assert first.status is RunStatus.SUCCEEDED
    again = run_once(AgentName.SDR, lead_id, north, Role.SDR, max_attempts=3)
    assert again.status is RunStatus.DEAD and again.attempts == 1  # refused, never retried
    assert again.error and "already has a pending outreach email draft" in again.error
    assert len(items()) == 1 and len(llm.requests) == 1  # the model was not asked again
    [item] = items()
    review.reject(
        actor=north.actor(Role.REVIEWER),
        item_id=item.id,
        seen_version=item.row_version,
        reason_code=review.ReasonCode.TONE,
    )
    third = run_once(AgentName.SDR, lead_id, north, Role.SDR)
    assert third.status is RunStatus.SUCCEEDED and len(items()) == 2
