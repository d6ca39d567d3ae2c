"""Deciding review items on both engines: every policy rule, conflicts, exactly-once execution."""

from __future__ import annotations

import functools
import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from domain.base import utcnow
from domain.enums import (
    DealStage,
    EmailStatus,
    EventSource,
    LeadStatus,
    LinkStatus,
    ReasonCode,
    ReviewKind,
    ReviewStatus,
    Role,
)
from domain.models import (
    AuditEntry,
    Deal,
    EventLink,
    Investigation,
    InvestigationNote,
    Invoice,
    Lead,
    NegotiationRound,
)
from services import audit, review
from services.errors import (
    Conflict,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    PolicyRefused,
    ServiceError,
)
from services.review import execution, items
from services.review import policy as policies
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration import review_support as rs
from tests.integration.event_factory import add_events, event

Pair = tuple[TenantWithUsers, TenantWithUsers]
K = ReviewKind


def _trail(item_id: int) -> list[AuditEntry]:
    return rs.rows(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "review_item", AuditEntry.entity_id == item_id)
        .order_by(AuditEntry.id)
    )


def test_approving_an_outreach_draft_sends_one_sandboxed_email_and_audits_each_step(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    lead_id = rs.lead(north.tenant.id)
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, lead_id)

    result = review.approve(
        actor=north.actor(Role.REVIEWER), item_id=item.id, seen_version=item.row_version
    )

    assert result.item.status is ReviewStatus.EXECUTED
    assert result.item.decided_by_id == north.users[Role.REVIEWER].id
    assert rs.count_emails(review_item_id=item.id, status=EmailStatus.SANDBOXED) == 1
    lead = rs.get(Lead, lead_id)
    assert lead.status is LeadStatus.CONTACTED and lead.last_contacted_at is not None
    trail = _trail(item.id)
    assert [e.action for e in trail] == ["review.submitted", "review.approved", "review.executed"]
    assert trail[1].before["status"] == "pending" and trail[1].after["status"] == "approved"
    assert trail[2].before["status"] == "approved" and trail[2].after["status"] == "executed"


def test_edit_and_approve_keeps_the_original_the_edit_a_diff_and_the_edit_distance(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    edited = {"subject": "Quick question", "body": "Hello Jane,\nShall we talk on Monday?"}

    result = review.edit_and_approve(
        actor=north.actor(Role.SDR),
        item_id=item.id,
        seen_version=item.row_version,
        edited_payload=edited,
    )

    done = result.item
    assert done.status is ReviewStatus.EXECUTED
    assert done.original_payload == rs.PAYLOADS[K.OUTREACH_EMAIL]
    assert done.edited_payload == edited and done.payload == edited
    assert done.edit_distance == len(" on Monday")
    assert "+body: Hello Jane," in (done.edit_diff or "") or "Monday" in (done.edit_diff or "")
    with UnitOfWork(None, readonly=True) as uow:
        from domain.models import EmailMessage

        body = uow.session.scalar(select(EmailMessage.body))
    assert body == edited["body"]
    assert [e.action for e in _trail(item.id)][1:3] == ["review.edited", "review.approved"]


def test_reject_needs_a_reason_and_records_it_with_the_comment(two_tenants: Pair) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    actor = north.actor(Role.REVIEWER)
    with pytest.raises(InvalidInput, match="other"):
        review.reject(
            actor=actor,
            item_id=item.id,
            seen_version=item.row_version,
            reason_code=ReasonCode.OTHER,
        )
    result = review.reject(
        actor=actor,
        item_id=item.id,
        seen_version=item.row_version,
        reason_code=ReasonCode.TONE,
        comment="Too pushy",
    )
    assert result.item.status is ReviewStatus.REJECTED
    assert result.item.reason_code is ReasonCode.TONE and result.item.comment == "Too pushy"
    assert rs.count_emails() == 0
    assert _trail(item.id)[-1].reason == "Too pushy"


def test_deciding_with_a_stale_version_is_a_conflict_naming_who_did_what_and_when(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    review.reject(
        actor=north.actor(Role.SDR),
        item_id=item.id,
        seen_version=item.row_version,
        reason_code=ReasonCode.DUPLICATE,
    )
    with pytest.raises(Conflict) as conflict:
        review.approve(
            actor=north.actor(Role.REVIEWER), item_id=item.id, seen_version=item.row_version
        )
    message = conflict.value.message
    assert "Sdr North rejected review item" in message and "UTC" in message


def _race(calls: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = calls[i]()
        except ServiceError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def test_two_reviewers_approving_at_once_one_wins_the_other_gets_a_conflict(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    actors = [north.actor(Role.REVIEWER), north.actor(Role.ADMIN)]
    calls = [
        functools.partial(review.approve, actor=a, item_id=item.id, seen_version=item.row_version)
        for a in actors
    ]
    outcomes = _race(calls)
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    wins = [o for o in outcomes if isinstance(o, review.DecisionResult)]
    assert len(wins) == 1 and len(conflicts) == 1, outcomes
    assert "approved review item" in conflicts[0].message or "executed" in conflicts[0].message
    assert rs.count_emails(review_item_id=item.id) == 1


def test_an_approved_item_executed_by_two_workers_at_once_sends_one_email(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    actor = north.actor(Role.ADMIN)
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    rs.set_item(item.id, status=ReviewStatus.APPROVED)

    def work() -> bool:
        with UnitOfWork(actor) as uow:
            row = items.load(uow.session, item.id)
            ran = execution.execute(uow, row, policies.load(uow.session, actor.tenant_id), utcnow())
            uow.commit()
            return ran

    outcomes = _race([work, work, work])
    assert sorted(outcomes) == [False, False, True]
    assert rs.count_emails(review_item_id=item.id) == 1
    assert [e.action for e in _trail(item.id)].count("review.executed") == 1


def test_amount_above_the_limit_needs_a_second_different_approver(two_tenants: Pair) -> None:
    north, _ = two_tenants
    deal_id = rs.deal(north.tenant.id, amount="80000.00")
    item = rs.draft(north.tenant.id, K.DEAL_PROPOSAL, deal_id, amount=80_000)
    sales, admin = north.actor(Role.SALES), north.actor(Role.ADMIN)

    first = review.approve(actor=sales, item_id=item.id, seen_version=item.row_version)
    assert first.item.status is ReviewStatus.PENDING
    assert first.item.first_approver_id == sales.user_id and "second" in first.message
    with pytest.raises(PolicyRefused) as refused:
        review.approve(actor=sales, item_id=item.id, seen_version=first.item.row_version)
    assert refused.value.rule == "four_eyes" and "four-eyes" in refused.value.message

    final = review.approve(actor=admin, item_id=item.id, seen_version=first.item.row_version)
    assert final.item.status is ReviewStatus.EXECUTED
    deal = rs.get(Deal, deal_id)
    assert deal.stage is DealStage.PROPOSAL and deal.amount == Decimal("80000.00")
    rounds = rs.rows(select(NegotiationRound))
    assert [(r.round_no, r.review_item_id) for r in rounds] == [(1, item.id)]


@pytest.mark.parametrize(
    ("kind", "amount", "limit"),
    [(K.COUNTER_OFFER, 60_000, 50_000), (K.DUNNING_NOTICE, 12_000, 10_000)],
)
def test_counter_offers_and_dunning_notices_above_their_limits_need_four_eyes(
    two_tenants: Pair, kind: ReviewKind, amount: float, limit: float
) -> None:
    north, _ = two_tenants
    t = north.tenant.id

    def subject(n: int) -> int:  # one invoice each: the cadence rule is not what is tested
        if kind is K.COUNTER_OFFER:
            return rs.deal(t, amount=f"{amount}.00")
        return rs.invoice(t, number=f"INV-{n}")

    small = rs.draft(t, kind, subject(1), amount=limit)  # at the limit: one approver will do
    big = rs.draft(t, kind, subject(2), amount=amount)
    admin = north.actor(Role.ADMIN)
    done = review.approve(actor=admin, item_id=small.id, seen_version=small.row_version)
    assert done.item.status is ReviewStatus.EXECUTED
    first = review.approve(actor=admin, item_id=big.id, seen_version=big.row_version)
    assert first.item.status is ReviewStatus.PENDING
    assert first.item.first_approver_id == admin.user_id
    with pytest.raises(PolicyRefused, match="four-eyes"):
        review.approve(actor=admin, item_id=big.id, seen_version=first.item.row_version)


def test_the_user_who_triggered_the_run_may_not_approve_its_output(two_tenants: Pair) -> None:
    north, _ = two_tenants
    sdr = north.actor(Role.SDR)
    item = rs.draft(
        north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id), triggered_by_id=sdr.user_id
    )
    with pytest.raises(PolicyRefused) as refused:
        review.approve(actor=sdr, item_id=item.id, seen_version=item.row_version)
    assert refused.value.rule == "no_self_approval"
    assert rs.count_emails() == 0
    result = review.reject(
        actor=sdr,
        item_id=item.id,
        seen_version=item.row_version,
        reason_code=ReasonCode.NOT_NEEDED,
    )
    assert result.item.status is ReviewStatus.REJECTED


def test_a_role_may_only_decide_the_kinds_its_policy_allows(two_tenants: Pair) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    with pytest.raises(PolicyRefused) as refused:
        review.approve(actor=north.actor(Role.FINANCE), item_id=item.id, seen_version=1)
    assert refused.value.rule == "role_may_decide_kind"
    with pytest.raises(PermissionDenied):
        review.approve(actor=north.actor(Role.VIEWER), item_id=item.id, seen_version=1)


def test_do_not_contact_blocks_outreach_and_the_item_stays_pending(two_tenants: Pair) -> None:
    north, _ = two_tenants
    item = rs.draft(
        north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id, do_not_contact=True)
    )
    with pytest.raises(PolicyRefused) as refused:
        review.approve(
            actor=north.actor(Role.REVIEWER), item_id=item.id, seen_version=item.row_version
        )
    assert refused.value.rule == "do_not_contact" and "Jane Doe" in refused.value.message
    detail = review.get_item(actor=north.actor(Role.REVIEWER), item_id=item.id)
    assert detail.item.status is ReviewStatus.PENDING and rs.count_emails() == 0


def test_dunning_cadence_refuses_a_second_notice_within_the_tenants_days(two_tenants: Pair) -> None:
    north, _ = two_tenants
    finance = north.actor(Role.FINANCE)
    recent = rs.invoice(north.tenant.id, last_dunned_at=utcnow() - timedelta(days=2))
    item = rs.draft(north.tenant.id, K.DUNNING_NOTICE, recent)
    with pytest.raises(PolicyRefused) as refused:
        review.approve(actor=finance, item_id=item.id, seen_version=item.row_version)
    assert refused.value.rule == "dunning_cadence"

    review.update_policy(actor=north.actor(Role.ADMIN), policy_in={"dunning_cadence_days": 1})
    assert review.get_policy(actor=finance).dunning_cadence_days == 1
    done = review.approve(actor=finance, item_id=item.id, seen_version=item.row_version)
    assert done.item.status is ReviewStatus.EXECUTED
    invoice = rs.get(Invoice, recent)
    assert invoice.dunning_level == 1 and rs.count_emails(invoice_id=recent) == 1


def test_two_dunning_notices_for_one_invoice_approved_at_once_send_one_notice(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    invoice_id = rs.invoice(north.tenant.id)
    first, second = (rs.draft(north.tenant.id, K.DUNNING_NOTICE, invoice_id) for _ in range(2))
    actors = [north.actor(Role.FINANCE), north.actor(Role.ADMIN)]
    calls = [
        functools.partial(review.approve, actor=a, item_id=i.id, seen_version=i.row_version)
        for a, i in zip(actors, (first, second), strict=True)
    ]
    outcomes = _race(calls)
    wins = [o for o in outcomes if isinstance(o, review.DecisionResult)]
    refusals = [o for o in outcomes if isinstance(o, PolicyRefused)]
    assert len(wins) == 1 and len(refusals) == 1, outcomes
    assert refusals[0].rule == "dunning_cadence"
    assert rs.count_emails(invoice_id=invoice_id) == 1
    assert rs.get(Invoice, invoice_id).dunning_level == 1


def test_policy_changes_are_admin_only_validated_and_scoped_to_the_tenant(
    two_tenants: Pair,
) -> None:
    north, south = two_tenants
    with pytest.raises(PermissionDenied):
        review.update_policy(
            actor=north.actor(Role.REVIEWER), policy_in={"dunning_cadence_days": 1}
        )
    with pytest.raises(InvalidInput):
        review.update_policy(actor=north.actor(Role.ADMIN), policy_in={"deciders": {"x": []}})
    review.update_policy(
        actor=north.actor(Role.ADMIN), policy_in={"four_eyes_limits": {"deal_proposal": 100}}
    )
    assert (
        review.get_policy(actor=north.actor(Role.VIEWER)).four_eyes_limits[K.DEAL_PROPOSAL] == 100
    )
    assert (
        review.get_policy(actor=south.actor(Role.VIEWER)).four_eyes_limits[K.DEAL_PROPOSAL]
        == 50_000
    )


def test_bulk_approval_decides_what_it_may_and_reports_each_failure(two_tenants: Pair) -> None:
    north, _ = two_tenants
    ok1 = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id, email="a@x.test"))
    ok2 = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id, email="b@x.test"))
    dnc = rs.draft(
        north.tenant.id,
        K.OUTREACH_EMAIL,
        rs.lead(north.tenant.id, email="c@x.test", do_not_contact=True),
    )
    result = review.bulk_decide(
        actor=north.actor(Role.REVIEWER),
        versions={ok1.id: ok1.row_version, dnc.id: dnc.row_version, ok2.id: 99},
        approve_all=True,
    )
    by_id = {r.item_id: r for r in result.results}
    assert by_id[ok1.id].ok and not by_id[dnc.id].ok and not by_id[ok2.id].ok
    assert "do-not-contact" in by_id[dnc.id].message
    assert "submitted" in by_id[ok2.id].message
    assert result.succeeded == 1 and rs.count_emails() == 1


def test_bulk_rejection_needs_a_reason(two_tenants: Pair) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    with pytest.raises(InvalidInput):
        review.bulk_decide(
            actor=north.actor(Role.REVIEWER), versions={item.id: 1}, approve_all=False
        )
    result = review.bulk_decide(
        actor=north.actor(Role.REVIEWER),
        versions={item.id: item.row_version},
        approve_all=False,
        reason_code=ReasonCode.DUPLICATE,
    )
    assert result.succeeded == 1


def test_a_failed_execution_is_stored_and_an_admin_can_retry_it(two_tenants: Pair) -> None:
    north, _ = two_tenants
    deal_id = rs.deal(north.tenant.id)
    with UnitOfWork(None) as uow:
        row = uow.session.get(Deal, deal_id)
        assert row is not None
        row.stage = DealStage.CLOSED_LOST
        uow.commit()
    item = rs.draft(north.tenant.id, K.COUNTER_OFFER, deal_id)
    failed = review.approve(
        actor=north.actor(Role.SALES), item_id=item.id, seen_version=item.row_version
    )
    assert failed.item.status is ReviewStatus.FAILED
    assert "closed lost" in (failed.item.execution_error or "")
    with pytest.raises(PermissionDenied):
        review.retry_execution(
            actor=north.actor(Role.SALES), item_id=item.id, seen_version=failed.item.row_version
        )
    with UnitOfWork(None) as uow:
        row = uow.session.get(Deal, deal_id)
        assert row is not None
        row.stage = DealStage.PROPOSAL
        uow.commit()
    retried = review.retry_execution(
        actor=north.actor(Role.ADMIN), item_id=item.id, seen_version=failed.item.row_version
    )
    assert retried.item.status is ReviewStatus.EXECUTED and retried.item.execution_attempts == 2
    assert rs.get(Deal, deal_id).stage is DealStage.NEGOTIATION
    with pytest.raises(InvalidTransition):
        review.retry_execution(
            actor=north.actor(Role.ADMIN), item_id=item.id, seen_version=retried.item.row_version
        )


def test_an_approved_rca_hypothesis_is_written_into_the_investigation(two_tenants: Pair) -> None:
    north, _ = two_tenants
    inv_id = rs.investigation(north.tenant.id)
    item = rs.draft(north.tenant.id, K.RCA_HYPOTHESIS, inv_id, label="Checkout errors")
    review.approve(actor=north.actor(Role.REVIEWER), item_id=item.id, seen_version=1)
    inv = rs.get(Investigation, inv_id)
    assert inv.root_cause == "Deploy 42 broke the cache" and inv.remediation == "Roll back"


def test_an_agent_hypothesis_is_written_with_the_events_it_cites(two_tenants: Pair) -> None:
    north, south = two_tenants
    inv_id = rs.investigation(north.tenant.id)
    at = utcnow() - timedelta(hours=1)
    deploy, spike = add_events(
        north.tenant.id,
        [
            event(EventSource.CI, "deploy", at, "checkout", "Deploy 42 of checkout"),
            event(EventSource.LOGS, "error_spike", at, "checkout", "5xx spike"),
        ],
    )
    (foreign,) = add_events(
        south.tenant.id, [event(EventSource.CI, "deploy", at, "checkout", "Their deploy")]
    )
    payload = {
        "summary": "Checkout failed after a deploy.",
        "rank": 1,
        "title": "Deploy 42 dropped the cart index",
        "explanation": "Errors start two minutes after the deploy.",
        "event_ids": [deploy, spike, foreign],
    }
    item = rs.draft(north.tenant.id, K.RCA_HYPOTHESIS, inv_id, payload=payload)
    review.approve(actor=north.actor(Role.REVIEWER), item_id=item.id, seen_version=1)

    inv = rs.get(Investigation, inv_id)
    assert inv.root_cause == (
        "Deploy 42 dropped the cart index\nErrors start two minutes after the deploy."
    )
    with UnitOfWork(None, readonly=True) as uow:
        links = uow.session.execute(
            select(EventLink.event_id, EventLink.status).where(EventLink.investigation_id == inv_id)
        ).all()
        notes = uow.session.scalars(
            select(InvestigationNote.body).where(InvestigationNote.investigation_id == inv_id)
        ).all()
    assert sorted(links) == sorted([(deploy, LinkStatus.ACCEPTED), (spike, LinkStatus.ACCEPTED)])
    assert len(notes) == 1 and f"#{deploy}" in notes[0] and f"#{foreign}" not in notes[0]
    assert "Investigator's summary: Checkout failed after a deploy." in notes[0]
    [entry] = [
        e
        for e in audit.list_for_entity(
            actor=north.actor(Role.ADMIN), entity_type="investigation", entity_id=inv_id
        )
        if e.action == "investigation.hypothesis_accepted"
    ]
    assert entry.before == {"root_cause": None, "remediation": None}
    assert entry.after["root_cause"] == inv.root_cause
    assert entry.after["cited_event_ids"] == sorted([deploy, spike])


def test_another_tenants_item_cannot_be_seen_or_decided(two_tenants: Pair) -> None:
    north, south = two_tenants
    item = rs.draft(south.tenant.id, K.OUTREACH_EMAIL, rs.lead(south.tenant.id))
    with pytest.raises(NotFound):
        review.get_item(actor=north.actor(Role.ADMIN), item_id=item.id)
    with pytest.raises(NotFound):
        review.approve(actor=north.actor(Role.ADMIN), item_id=item.id, seen_version=1)
    assert review.list_queue(actor=north.actor(Role.ADMIN)).items == []
