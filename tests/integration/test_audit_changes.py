"""The audit holds before/after of what executing an approval changes on the lead, deal, invoice
and contract, and of what deciding a suggested link or discarding a quarantined record replaces."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from domain.base import utcnow
from domain.enums import (
    ContractStatus,
    EventSource,
    LinkStatus,
    QuarantineStatus,
    ReviewKind,
    ReviewStatus,
    Role,
)
from domain.models import AuditEntry, Contract, EventLink, Lead, QuarantinedRecord
from services import review
from services.ingest import quarantine
from services.investigations import correlation
from services.review import ReviewDraftCreate, ReviewItemRead
from services.tenants import TenantWithUsers
from tests.integration import review_support as rs
from tests.integration.event_factory import add_events, event

Pair = tuple[TenantWithUsers, TenantWithUsers]
K = ReviewKind


def _trail(entity_type: str, entity_id: int) -> list[AuditEntry]:
    return rs.rows(
        select(AuditEntry)
        .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.id)
    )


def _approve(pair: Pair, item: ReviewItemRead, role: Role = Role.REVIEWER) -> ReviewItemRead:
    result = review.approve(
        actor=pair[0].actor(role), item_id=item.id, seen_version=item.row_version
    )
    return result.item


def _only_change(entity_type: str, entity_id: int, item: ReviewItemRead) -> AuditEntry:
    (entry,) = _trail(entity_type, entity_id)
    assert entry.reason == f"review item #{item.id}"
    return entry


def test_sending_an_outreach_email_audits_the_leads_status_and_last_contact(
    two_tenants: Pair,
) -> None:
    lead_id = rs.lead(two_tenants[0].tenant.id)
    item = _approve(two_tenants, rs.draft(two_tenants[0].tenant.id, K.OUTREACH_EMAIL, lead_id))

    assert item.status is ReviewStatus.EXECUTED
    entry = _only_change("lead", lead_id, item)
    assert entry.action == "lead.contacted"
    assert entry.actor_id == two_tenants[0].users[Role.REVIEWER].id
    assert entry.before == {"status": "new", "last_contacted_at": None}
    assert entry.after is not None and entry.after["status"] == "contacted"
    contacted = rs.get(Lead, lead_id).last_contacted_at
    assert contacted is not None and entry.after["last_contacted_at"] == contacted.isoformat()


def test_a_dunning_notice_audits_the_invoices_dunning_level_before_and_after(
    two_tenants: Pair,
) -> None:
    invoice_id = rs.invoice(two_tenants[0].tenant.id)
    item = _approve(two_tenants, rs.draft(two_tenants[0].tenant.id, K.DUNNING_NOTICE, invoice_id))

    assert item.status is ReviewStatus.EXECUTED
    entry = _only_change("invoice", invoice_id, item)
    assert entry.action == "invoice.dunned"
    assert entry.before == {"dunning_level": 0, "last_dunned_at": None}
    assert entry.after is not None and entry.after["dunning_level"] == 1
    assert entry.after["last_dunned_at"] is not None


@pytest.mark.parametrize(
    ("kind", "action", "stage"),
    [
        (K.DEAL_PROPOSAL, "deal.proposed", "proposal"),
        (K.COUNTER_OFFER, "deal.countered", "negotiation"),
    ],
)
def test_a_deal_proposal_or_counter_offer_audits_the_deals_amount_discount_and_stage(
    two_tenants: Pair, kind: ReviewKind, action: str, stage: str
) -> None:
    deal_id = rs.deal(two_tenants[0].tenant.id, amount="12000.00")
    payload = {"amount": 10000, "discount_pct": 10, "terms": "Net 45"}
    draft = rs.draft(two_tenants[0].tenant.id, kind, deal_id, payload=payload)
    item = _approve(two_tenants, draft, Role.SALES)

    assert item.status is ReviewStatus.EXECUTED
    entry = _only_change("deal", deal_id, item)
    assert entry.action == action
    assert entry.before == {"stage": "discovery", "amount": "12000.00", "discount_pct": "0.00"}
    assert entry.after == {"stage": stage, "amount": "10000.00", "discount_pct": "10.00"}


def _contract(tenant_id: int, status: ContractStatus = ContractStatus.DRAFT) -> int:
    return rs.add(
        Contract(tenant_id=tenant_id, number="C-7", value=Decimal("5000.00"), status=status)
    )


def _contract_draft(tenant_id: int, contract_id: int) -> ReviewItemRead:
    return review.submit_draft(
        tenant_id=tenant_id,
        draft_in=ReviewDraftCreate(
            kind=K.CONTRACT,
            subject_type="contract",
            subject_id=contract_id,
            subject_label="C-7",
            payload={"contract_id": contract_id, "summary": "Send C-7 for signature"},
            confidence=0.8,
            drafted_by="sales",
        ),
    )


def test_sending_a_contract_audits_its_status_from_draft_to_sent(two_tenants: Pair) -> None:
    contract_id = _contract(two_tenants[0].tenant.id)
    item = _approve(two_tenants, _contract_draft(two_tenants[0].tenant.id, contract_id))

    assert item.status is ReviewStatus.EXECUTED
    entry = _only_change("contract", contract_id, item)
    assert entry.action == "contract.sent"
    assert (entry.before, entry.after) == ({"status": "draft"}, {"status": "sent"})


def test_an_execution_that_fails_before_changing_its_subject_audits_no_subject_change(
    two_tenants: Pair,
) -> None:
    contract_id = _contract(two_tenants[0].tenant.id, ContractStatus.SIGNED)
    item = _approve(two_tenants, _contract_draft(two_tenants[0].tenant.id, contract_id))

    assert item.status is ReviewStatus.FAILED
    assert _trail("contract", contract_id) == []


def _link_scenario(pair: Pair) -> tuple[int, int]:
    """An investigation and a checkout deploy, with a link a rule suggested earlier."""
    north = pair[0]
    inv_id = rs.investigation(north.tenant.id)
    (event_id,) = add_events(
        north.tenant.id, [event(EventSource.CI, "deploy", utcnow(), "checkout", status="ok")]
    )
    rs.add(
        EventLink(
            tenant_id=north.tenant.id,
            investigation_id=inv_id,
            event_id=event_id,
            rule="old_rule",
            score=0.25,
            reasons=["suggested by an older rule"],
            status=LinkStatus.SUGGESTED,
        )
    )
    return inv_id, event_id


def test_deciding_a_suggested_link_keeps_what_the_suggestion_said_in_the_audit(
    two_tenants: Pair,
) -> None:
    inv_id, event_id = _link_scenario(two_tenants)
    editor = two_tenants[0].actor(Role.REVIEWER)

    correlation.decide(actor=editor, investigation_id=inv_id, event_id=event_id, accept=True)

    entry = _trail("investigation", inv_id)[-1]
    assert entry.action == "investigation.event_accepted"
    assert entry.before == {
        "event_id": event_id,
        "status": "suggested",
        "score": 0.25,
        "reasons": ["suggested by an older rule"],
        "rule": "old_rule",
    }
    assert entry.after is not None and entry.after["event_id"] == event_id


def test_discarding_a_quarantined_record_audits_its_status_before_and_after(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    record_id = rs.add(
        QuarantinedRecord(
            tenant_id=north.tenant.id,
            source=EventSource.LOGS,
            origin="app.log",
            position="line 3",
            reason="not JSON",
            raw="{oops",
            status=QuarantineStatus.PENDING,
        )
    )

    quarantine.discard_quarantined(
        actor=north.actor(Role.ADMIN), record_id=record_id, reason="a test line"
    )

    (entry,) = _trail("quarantined_record", record_id)
    assert entry.action == "quarantine.discarded" and entry.reason == "a test line"
    before: dict[str, Any] | None = entry.before
    assert before == {"status": "pending", "reason": "not JSON"}
    assert entry.after == {"status": "discarded", "reason": "not JSON"}
