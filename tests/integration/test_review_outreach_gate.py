"""What is approved is what is executed (issue 11 §8): edited recipients are honoured and
re-checked, fields execution ignores are not editable, outreach has a cadence, failures say
what to do next, and the card's pre-checks say what approving would meet. Both engines."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from domain.base import utcnow
from domain.enums import ContractStatus, DealStage, EmailStatus, ReviewKind, ReviewStatus, Role
from domain.models import Contract, Deal, EmailMessage, Lead, ReviewItem
from services import review
from services.errors import InvalidInput, PolicyRefused
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration import review_support as rs

Pair = tuple[TenantWithUsers, TenantWithUsers]
K = ReviewKind


def _sent_to() -> list[str]:
    return [m.to_addr for m in rs.rows(select(EmailMessage).order_by(EmailMessage.id))]


def _edit(tenant: TenantWithUsers, item: review.ReviewItemRead, **edited: object) -> object:
    return review.edit_and_approve(
        actor=tenant.actor(Role.REVIEWER),
        item_id=item.id,
        seen_version=item.row_version,
        edited_payload=dict(edited),
    )


def test_an_edited_to_is_where_the_outreach_email_goes(two_tenants: Pair) -> None:
    north, _ = two_tenants
    lead_id = rs.lead(north.tenant.id)
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, lead_id)
    done = _edit(north, item, to="j.doe@example.test")
    assert isinstance(done, review.DecisionResult) and done.item.status is ReviewStatus.EXECUTED
    assert _sent_to() == ["j.doe@example.test"]
    assert rs.get(Lead, lead_id).last_contacted_at is not None


@pytest.mark.parametrize(
    ("to", "rule"),
    [
        ("someone@elsewhere.test", "recipient domain"),
        ("jane@example.test\r\nBcc: spy@elsewhere.test", "e-mail address"),
        ("Jane <jane@example.test>", "e-mail address"),
        ("jane@example.test, spy@example.test", "e-mail address"),
        (["jane@example.test"], "e-mail address"),
    ],
)
def test_an_edited_to_must_be_one_address_at_the_leads_own_domain(
    two_tenants: Pair, to: object, rule: str
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    with pytest.raises(InvalidInput) as refused:
        _edit(north, item, to=to)
    assert f"field: to; rule: {rule}" in refused.value.message, refused.value.message
    assert _sent_to() == [] and rs.get(ReviewItem, item.id).status is ReviewStatus.PENDING


def test_an_edited_to_of_a_do_not_contact_address_is_refused(two_tenants: Pair) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    rs.lead(t, email="boss@example.test", do_not_contact=True)
    item = rs.draft(t, K.OUTREACH_EMAIL, rs.lead(t))
    with pytest.raises(PolicyRefused) as refused:
        _edit(north, item, to="BOSS@example.test")
    assert refused.value.rule == "do_not_contact"
    assert "boss@example.test" in refused.value.message.lower()
    assert _sent_to() == [] and rs.get(ReviewItem, item.id).edited_payload is None


def test_an_edited_to_that_was_emailed_recently_is_refused_by_the_cadence(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    other = rs.draft(t, K.OUTREACH_EMAIL, rs.lead(t, email="tom@example.test"))
    review.approve(actor=north.actor(Role.REVIEWER), item_id=other.id, seen_version=1)
    item = rs.draft(t, K.OUTREACH_EMAIL, rs.lead(t))
    with pytest.raises(PolicyRefused) as refused:
        _edit(north, item, to="tom@example.test")
    assert refused.value.rule == "outreach_cadence"
    assert _sent_to() == ["tom@example.test"]


def test_fields_execution_cannot_honour_are_refused_in_an_edit(two_tenants: Pair) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    invoice_id = rs.invoice(t)
    payload = {"invoice_id": invoice_id, "to": "ap@example.test", "level": 1,
               "subject": "Reminder: INV-1", "body": "Please pay INV-1."}  # fmt: skip
    notice = rs.draft(t, K.DUNNING_NOTICE, invoice_id, payload=payload)
    finance = north.actor(Role.FINANCE)
    for edit in ({"to": "me@elsewhere.test"}, {"invoice_id": invoice_id + 1}, {"level": 3}):
        with pytest.raises(InvalidInput, match="cannot be edited"):
            review.edit_and_approve(
                actor=finance, item_id=notice.id, seen_version=1, edited_payload=edit
            )
    outreach = rs.draft(t, K.OUTREACH_EMAIL, rs.lead(t))
    with pytest.raises(InvalidInput, match="no 'lead_id' field"):
        _edit(north, outreach, lead_id=12345)
    assert _sent_to() == []
    detail = review.get_item(actor=finance, item_id=notice.id)
    assert list(detail.editable) == ["subject", "body"]
    assert list(review.get_item(actor=finance, item_id=outreach.id).editable) == [
        "to",
        "subject",
        "body",
    ]


def test_fifteen_near_identical_outreach_drafts_to_one_lead_send_one_email(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    lead_id = rs.lead(t)
    body = "Hello Jane,\nShall we talk?"
    drafts = [
        rs.draft(t, K.OUTREACH_EMAIL, lead_id, payload={"subject": f"Question {n}", "body": body})
        for n in range(15)
    ]
    reviewer = north.actor(Role.REVIEWER)
    outcomes: list[object] = []
    for item in drafts:
        try:
            outcomes.append(review.approve(actor=reviewer, item_id=item.id, seen_version=1))
        except PolicyRefused as refused:
            outcomes.append(refused.rule)
    assert outcomes[1:] == ["outreach_cadence"] * 14
    assert rs.count_emails(lead_id=lead_id) == 1
    statuses = [rs.get(ReviewItem, d.id).status for d in drafts]
    assert statuses == [ReviewStatus.EXECUTED] + [ReviewStatus.PENDING] * 14


def test_the_outreach_cadence_and_daily_limit_are_the_tenants_to_set(two_tenants: Pair) -> None:
    north, south = two_tenants
    t = north.tenant.id
    admin, reviewer = north.actor(Role.ADMIN), north.actor(Role.REVIEWER)
    lead_id = rs.lead(t)
    first, second = (rs.draft(t, K.OUTREACH_EMAIL, lead_id) for _ in range(2))
    review.approve(actor=reviewer, item_id=first.id, seen_version=1)
    review.update_policy(actor=admin, policy_in={"outreach_cadence_days": 0})
    assert review.approve(actor=reviewer, item_id=second.id, seen_version=1).item.status is (
        ReviewStatus.EXECUTED
    )
    review.update_policy(actor=admin, policy_in={"outreach_daily_limit": 2})
    third = rs.draft(t, K.OUTREACH_EMAIL, rs.lead(t, email="x@other.test"))
    with pytest.raises(PolicyRefused) as refused:
        review.approve(actor=reviewer, item_id=third.id, seen_version=1)
    assert refused.value.rule == "outreach_daily_limit"
    assert review.get_policy(actor=admin).outreach_daily_limit == 2
    assert review.get_policy(actor=south.actor(Role.ADMIN)).outreach_daily_limit == 200
    with pytest.raises(InvalidInput):
        review.update_policy(actor=admin, policy_in={"outreach_cadence_days": "NaN"})


def test_a_failed_execution_is_reported_as_a_failure_with_the_next_step(two_tenants: Pair) -> None:
    north, _ = two_tenants
    deal_id = rs.deal(north.tenant.id)
    with UnitOfWork(None) as uow:
        row = uow.session.get(Deal, deal_id)
        assert row is not None
        row.stage = DealStage.CLOSED_WON
        uow.commit()
    item = rs.draft(north.tenant.id, K.COUNTER_OFFER, deal_id)
    result = review.approve(actor=north.actor(Role.SALES), item_id=item.id, seen_version=1)
    assert result.item.status is ReviewStatus.FAILED and result.ok is False
    assert "failed" in result.message and "Next step" in result.message
    assert "Retry execution" in result.message
    detail = review.get_item(actor=north.actor(Role.SALES), item_id=item.id)
    assert detail.next_step and "Retry execution" in detail.next_step


def _checks(tenant: TenantWithUsers, role: Role, item_id: int) -> dict[str, tuple[str, str]]:
    report = review.pre_checks(actor=tenant.actor(role), item_id=item_id)
    return {c.rule: (c.outcome, c.message) for c in report.checks}


def test_pre_checks_show_what_approving_would_meet_before_anyone_clicks(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    sdr = north.actor(Role.SDR)
    flagged = rs.lead(t, do_not_contact=True)
    dnc = rs.draft(t, K.OUTREACH_EMAIL, flagged, triggered_by_id=sdr.user_id)
    checks = _checks(north, Role.SDR, dnc.id)
    assert checks["no_self_approval"][0] == "blocked"
    assert checks["do_not_contact"][0] == "blocked" and "Jane Doe" in checks["do_not_contact"][1]
    assert _checks(north, Role.REVIEWER, dnc.id)["role_may_decide_kind"][0] == "ok"

    contract_id = rs.add(
        Contract(tenant_id=t, number="C-7", status=ContractStatus.SIGNED, value=Decimal("5000"))
    )
    signed = rs.draft(t, K.CONTRACT, contract_id)
    outcome, message = _checks(north, Role.SALES, signed.id)["subject_state"]
    assert outcome == "blocked" and "already signed" in message

    deal_id = rs.deal(t, amount="80000.00")
    big = rs.draft(t, K.DEAL_PROPOSAL, deal_id, amount=80_000)
    assert _checks(north, Role.SALES, big.id)["four_eyes"][0] == "warning"
    review.approve(actor=north.actor(Role.SALES), item_id=big.id, seen_version=1)
    assert _checks(north, Role.SALES, big.id)["four_eyes"][0] == "blocked"
    outcome, message = _checks(north, Role.ADMIN, big.id)["four_eyes"]
    assert outcome == "ok" and "Sales North gave the first approval" in message

    fine = rs.draft(t, K.OUTREACH_EMAIL, rs.lead(t, email="ok@example.test"))
    assert {o for o, _ in _checks(north, Role.REVIEWER, fine.id).values()} == {"ok"}
    recent = utcnow() - timedelta(hours=1)
    with UnitOfWork(None) as uow:
        lead = uow.session.get(Lead, fine.subject_id)
        assert lead is not None
        lead.last_contacted_at = recent
        uow.commit()
    assert _checks(north, Role.REVIEWER, fine.id)["outreach_cadence"][0] == "blocked"
    assert rs.count_emails(status=EmailStatus.SANDBOXED) == 0


def test_two_outreach_drafts_to_one_lead_approved_at_once_send_one_email(
    two_tenants: Pair,
) -> None:
    import threading

    north, _ = two_tenants
    t = north.tenant.id
    lead_id = rs.lead(t)
    drafts = [rs.draft(t, K.OUTREACH_EMAIL, lead_id) for _ in range(2)]
    actors = [north.actor(Role.REVIEWER), north.actor(Role.ADMIN)]
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def approve(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = review.approve(actor=actors[i], item_id=drafts[i].id, seen_version=1)
        except PolicyRefused as refused:
            outcomes[i] = refused.rule

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(str(type(o).__name__) for o in outcomes) == ["DecisionResult", "str"], outcomes
    assert "outreach_cadence" in outcomes
    assert rs.count_emails(lead_id=lead_id) == 1
