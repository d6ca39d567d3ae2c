"""The review item's own rules: each state change refuses what the domain does not allow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.enums import ReasonCode, ReviewStatus
from domain.errors import DomainError
from domain.models import ReviewItem
from domain.transitions import InvalidTransition

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
R = ReviewStatus


def _item(status: ReviewStatus = R.PENDING, **values: object) -> ReviewItem:
    return ReviewItem(id=7, status=status, claimed_by_id=3, claim_expires_at=NOW, **values)


def test_approving_a_pending_item_records_the_decider_and_frees_the_claim() -> None:
    item = _item()
    item.approve(5, NOW, "fine")
    assert (item.status, item.decided_by_id, item.decided_at, item.comment) == (
        R.APPROVED,
        5,
        NOW,
        "fine",
    )
    assert (item.claimed_by_id, item.claim_expires_at, item.updated_at) == (None, None, NOW)


def test_a_first_approval_keeps_the_item_pending_for_a_second_approver() -> None:
    item = _item()
    item.first_approve(5, NOW)
    assert (item.status, item.first_approver_id, item.first_approved_at) == (R.PENDING, 5, NOW)
    assert item.claimed_by_id is None and item.decided_by_id is None


def test_rejecting_keeps_the_reason_and_the_comment() -> None:
    item = _item()
    item.reject(5, NOW, ReasonCode.WRONG_FACTS, "")
    assert (item.status, item.reason_code, item.comment) == (
        R.REJECTED,
        ReasonCode.WRONG_FACTS,
        None,
    )
    assert item.claimed_by_id is None


@pytest.mark.parametrize("status", [s for s in ReviewStatus if s is not R.PENDING])
@pytest.mark.parametrize("decide", ["approve", "first_approve", "reject", "claim"])
def test_only_a_pending_item_can_be_decided_or_claimed(status: ReviewStatus, decide: str) -> None:
    item = _item(status)
    with pytest.raises(InvalidTransition, match=f"#7 is {status.value}"):
        _decide(item, decide)
    assert item.status is status and item.claimed_by_id == 3


@pytest.mark.parametrize("decide", ["approve", "first_approve", "reject"])
def test_an_item_past_its_expiry_can_no_longer_be_decided(decide: str) -> None:
    item = _item(expires_at=NOW - timedelta(seconds=1))
    with pytest.raises(InvalidTransition, match="expired at 2026-12-02 08:59 UTC"):
        _decide(item, decide)
    assert item.status is R.PENDING


def _decide(item: ReviewItem, how: str) -> None:
    if how == "approve":
        item.approve(5, NOW, None)
    elif how == "first_approve":
        item.first_approve(5, NOW)
    elif how == "reject":
        item.reject(5, NOW, ReasonCode.OTHER, "no")
    else:
        item.claim(5, NOW + timedelta(minutes=15))


@pytest.mark.parametrize("status", [R.PENDING, R.REJECTED, R.EXPIRED, R.EXECUTED])
def test_nothing_is_carried_out_that_no_human_approved(status: ReviewStatus) -> None:
    for mark in (ReviewItem.mark_executed, ReviewItem.mark_failed):
        item = _item(status)
        with pytest.raises(InvalidTransition):
            mark(item, NOW) if mark is ReviewItem.mark_executed else mark(item, "x", NOW)
        assert item.status is status and item.executed_at is None


def test_an_approved_item_is_carried_out_once_and_a_failure_can_be_retried() -> None:
    item = _item(R.APPROVED)
    item.mark_failed("SMTP refused", NOW)
    assert (item.status, item.execution_error) == (R.FAILED, "SMTP refused")
    item.retry(NOW)
    assert item.status is R.APPROVED
    item.mark_executed(NOW)
    assert (item.status, item.executed_at, item.execution_error) == (R.EXECUTED, NOW, None)
    with pytest.raises(InvalidTransition, match="only failed items can be retried"):
        item.retry(NOW)
    with pytest.raises(InvalidTransition):
        item.mark_executed(NOW)


def test_expiring_closes_the_item_and_frees_its_claim() -> None:
    item = _item()
    item.expire(NOW)
    assert (item.status, item.claimed_by_id, item.claim_expires_at) == (R.EXPIRED, None, None)
    with pytest.raises(InvalidTransition):
        item.expire(NOW)


def test_a_claim_is_live_only_while_held_and_unexpired() -> None:
    item = _item()
    assert not item.claim_live(NOW)  # its lease ends now
    item.claim(4, NOW + timedelta(minutes=1))
    assert item.claim_live(NOW) and item.claimed_by_id == 4
    item.release()
    assert not item.claim_live(NOW)


def test_every_domain_refusal_shares_one_base() -> None:
    from domain.review_policy import PolicyRefusal

    assert issubclass(InvalidTransition, DomainError) and issubclass(PolicyRefusal, DomainError)
    assert PolicyRefusal.category == "policy" and InvalidTransition.category == "transition"


def test_runs_cancel_and_retry_under_the_run_table() -> None:
    from domain.enums import RunStatus
    from domain.models import AgentRun

    run = AgentRun(id=3, status=RunStatus.QUEUED, attempts=3, max_attempts=3, lease_owner="w1")
    run.cancel(NOW)
    assert (run.status, run.finished_at, run.lease_owner) == (RunStatus.CANCELLED, NOW, None)
    with pytest.raises(InvalidTransition, match="only failed or dead runs can be retried"):
        run.retry(NOW)
    run = AgentRun(id=4, status=RunStatus.DEAD, attempts=3, max_attempts=3)
    run.retry(NOW)
    assert (run.status, run.next_attempt_at, run.max_attempts) == (RunStatus.RETRYING, NOW, 4)
    with pytest.raises(InvalidTransition, match="can be cancelled"):
        AgentRun(id=5, status=RunStatus.SUCCEEDED).cancel(NOW)


def test_a_deal_moves_forward_with_offers_and_never_out_of_a_closed_stage() -> None:
    from decimal import Decimal

    from domain.enums import DealStage as D
    from domain.models import Deal

    deal = Deal(name="Acme", stage=D.DISCOVERY)
    deal.record_offer(D.PROPOSAL, Decimal("100"), Decimal("5"), NOW)
    assert (deal.stage, deal.amount, deal.updated_at) == (D.PROPOSAL, Decimal("100"), NOW)
    deal.record_offer(D.NEGOTIATION, Decimal("90"), Decimal("10"), NOW)
    deal.record_offer(D.PROPOSAL, Decimal("95"), Decimal("8"), NOW)  # no step back
    assert deal.stage is D.NEGOTIATION and deal.amount == Decimal("95")
    deal.stage = D.CLOSED_WON
    with pytest.raises(InvalidTransition, match="Deal Acme is already closed won"):
        deal.record_offer(D.NEGOTIATION, Decimal("1"), Decimal("0"), NOW)
    assert deal.amount == Decimal("95")


def test_an_investigation_resolves_only_with_a_root_cause_and_reopening_clears_the_times() -> None:
    from domain.enums import InvestigationStatus as N
    from domain.models import Investigation

    inv = Investigation(status=N.IN_PROGRESS, root_cause=None)
    with pytest.raises(InvalidTransition, match="root cause"):
        inv.move_to(N.RESOLVED, NOW, "  ")
    inv.move_to(N.RESOLVED, NOW, "expired certificate")
    assert (inv.status, inv.resolved_at, inv.root_cause) == (N.RESOLVED, NOW, "expired certificate")
    inv.move_to(N.IN_PROGRESS, NOW, None)
    assert inv.resolved_at is None and inv.root_cause == "expired certificate"
