"""The approval gate cannot be edited around (issue 11 §1): an edit passes the same rules as an
agent's draft, four-eyes weighs the larger amount, and a refusal names the field and writes
nothing. Both engines."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from domain.enums import DealStage, ReviewKind, ReviewStatus, Role
from domain.models import AuditEntry, Deal, NegotiationRound, ReviewItem
from services import review
from services.errors import InvalidInput
from services.tenants import TenantWithUsers
from tests.integration import review_support as rs

Pair = tuple[TenantWithUsers, TenantWithUsers]
K = ReviewKind
TERMS = "Annual licence, net 30 payment, onboarding included for the first quarter."


def _proposal(tenant_id: int, amount: str, currency: str = "USD") -> tuple[int, Any]:
    deal_id = rs.deal(tenant_id, amount=amount, currency=currency)
    payload = {"amount": amount, "discount_pct": "0", "currency": currency, "terms_summary": TERMS}
    return deal_id, rs.draft(tenant_id, K.DEAL_PROPOSAL, deal_id, payload=payload,
                             amount=float(amount), label="Robot arms")  # fmt: skip


def _nothing_written(item: Any, deal_id: int, amount: str) -> None:
    row = rs.get(ReviewItem, item.id)
    assert (row.status, row.row_version, row.edited_payload) == (
        ReviewStatus.PENDING,
        item.row_version,
        None,
    )
    assert row.payload == item.payload and row.amount == item.amount
    deal = rs.get(Deal, deal_id)
    assert deal.amount == Decimal(amount) and deal.stage is DealStage.DISCOVERY
    assert rs.rows(select(NegotiationRound)) == []
    actions = [
        e.action
        for e in rs.rows(select(AuditEntry).where(AuditEntry.entity_id == item.id))
        if e.entity_type == "review_item"
    ]
    assert actions == ["review.submitted"]


def test_a_117300_proposal_edited_to_amount_1_and_discount_95_is_refused_naming_the_rule(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    deal_id, item = _proposal(north.tenant.id, "117300.00")
    with pytest.raises(InvalidInput) as refused:
        review.edit_and_approve(
            actor=north.actor(Role.SALES),
            item_id=item.id,
            seen_version=item.row_version,
            edited_payload={"amount": "1", "discount_pct": "95"},
        )
    message = refused.value.message
    assert "discount_pct" in message and "cap is 20%" in message and "discount cap" in message
    _nothing_written(item, deal_id, "117300.00")


def test_a_proposal_edited_far_below_its_list_price_is_refused_by_the_price_range(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    deal_id, item = _proposal(north.tenant.id, "117300.00")
    with pytest.raises(InvalidInput) as refused:
        review.edit_and_approve(
            actor=north.actor(Role.SALES),
            item_id=item.id,
            seen_version=item.row_version,
            edited_payload={"amount": "1", "discount_pct": "0"},
        )
    message = refused.value.message
    assert "amount" in message and "price range" in message and "93,840.00" in message
    _nothing_written(item, deal_id, "117300.00")


def test_lowering_the_amount_below_the_four_eyes_limit_still_needs_a_second_approver(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    deal_id, item = _proposal(north.tenant.id, "60000.00")  # four-eyes limit: 50,000
    sales, admin = north.actor(Role.SALES), north.actor(Role.ADMIN)
    first = review.edit_and_approve(
        actor=sales,
        item_id=item.id,
        seen_version=item.row_version,
        edited_payload={"amount": "48000.00", "discount_pct": "20"},
    )
    assert first.item.status is ReviewStatus.PENDING and first.item.amount == 48000.0
    assert first.item.first_approver_id == sales.user_id and "second" in first.message
    assert review.get_item(actor=admin, item_id=item.id).needs_second_approver
    done = review.approve(actor=admin, item_id=item.id, seen_version=first.item.row_version)
    assert done.item.status is ReviewStatus.EXECUTED
    deal = rs.get(Deal, deal_id)
    assert (deal.amount, deal.discount_pct) == (Decimal("48000.00"), Decimal("20.00"))


def test_an_edit_of_the_amount_after_the_first_approval_starts_four_eyes_again(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    deal_id, item = _proposal(north.tenant.id, "80000.00")
    sales, admin = north.actor(Role.SALES), north.actor(Role.ADMIN)
    first = review.approve(actor=sales, item_id=item.id, seen_version=item.row_version)
    assert first.item.first_approver_id == sales.user_id
    again = review.edit_and_approve(
        actor=admin,
        item_id=item.id,
        seen_version=first.item.row_version,
        edited_payload={"amount": "70000.00", "discount_pct": "12.5"},
    )
    assert again.item.status is ReviewStatus.PENDING
    assert again.item.first_approver_id == admin.user_id  # the admin's is now the first
    assert rs.get(Deal, deal_id).amount == Decimal("80000.00")


@pytest.mark.parametrize(
    ("edit", "field", "words"),
    [
        ({"amount": "-1000000"}, "amount", "not positive"),
        ({"amount": -1000000}, "amount", "not positive"),
        ({"amount": "NaN"}, "amount", "not a number"),
        ({"amount": float("nan")}, "amount", "not a finite number"),
        ({"amount": "Infinity"}, "amount", "not a number"),
        ({"amount": "-inf"}, "amount", "not a number"),
        ({"amount": "about ten thousand"}, "amount", "not a plain number"),
        ({"amount": "1e5"}, "amount", "not a plain number"),
        ({"amount": [9000]}, "amount", "must be a number"),
        ({"amount": True}, "amount", "must be a number"),
        ({"amount": "9000.001"}, "amount", "more than two decimals"),
        ({"discount_pct": "-5"}, "discount_pct", "not between 0 and 100"),
        ({"discount_pct": "NaN"}, "discount_pct", "not a number"),
        ({"currency": "EUR"}, "currency", "cannot be edited"),
        ({"terms_summary": 42}, "terms_summary", "must be text"),
        ({"terms_summary": "Net 30\x00"}, "terms_summary", "NUL"),
    ],
)
def test_negative_non_finite_and_non_numeric_edits_are_refused_clearly(
    two_tenants: Pair, edit: dict[str, Any], field: str, words: str
) -> None:
    north, _ = two_tenants
    deal_id, item = _proposal(north.tenant.id, "10000.00")
    with pytest.raises(InvalidInput) as refused:
        review.edit_and_approve(
            actor=north.actor(Role.SALES),
            item_id=item.id,
            seen_version=item.row_version,
            edited_payload=edit,
        )
    message = refused.value.message
    assert f"field: {field}" in message and words in message, message
    assert "clashes" not in message
    _nothing_written(item, deal_id, "10000.00")


def test_a_counter_offer_edited_below_the_floor_or_above_the_list_price_is_refused(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    deal_id = rs.deal(t, amount="10000.00")
    payload = {"deal_id": deal_id, "amount": 9000, "discount_pct": 10, "rationale": "Meet halfway"}
    item = rs.draft(t, K.COUNTER_OFFER, deal_id, payload=payload, label="Robot arms")
    for amount in ("7999.99", "10000.01"):
        with pytest.raises(InvalidInput, match="price range"):
            review.edit_and_approve(
                actor=north.actor(Role.SALES),
                item_id=item.id,
                seen_version=item.row_version,
                edited_payload={"amount": amount},
            )
    with pytest.raises(InvalidInput, match=r"deal_id cannot be edited"):
        review.edit_and_approve(
            actor=north.actor(Role.SALES),
            item_id=item.id,
            seen_version=item.row_version,
            edited_payload={"deal_id": deal_id + 1},
        )
    done = review.edit_and_approve(
        actor=north.actor(Role.SALES),
        item_id=item.id,
        seen_version=item.row_version,
        edited_payload={"amount": 8500, "deal_id": deal_id},  # the id unchanged is fine
    )
    assert done.item.status is ReviewStatus.EXECUTED
    assert rs.get(Deal, deal_id).amount == Decimal("8500.00")


def test_a_lowered_discount_cap_refuses_a_plain_approval_of_an_older_draft(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    deal_id = rs.deal(t, amount="10000.00")
    payload = {"amount": 8500, "discount_pct": 15, "terms": "Net 30"}
    item = rs.draft(t, K.DEAL_PROPOSAL, deal_id, payload=payload, label="Robot arms")
    from tests import agent_data

    agent_data.set_discount_cap(t, 10)
    with pytest.raises(InvalidInput, match="cap is 10%"):
        review.approve(actor=north.actor(Role.SALES), item_id=item.id, seen_version=1)
    assert rs.get(Deal, deal_id).amount == Decimal("10000.00")


def test_a_draft_in_another_currency_than_its_deal_is_refused(two_tenants: Pair) -> None:
    north, _ = two_tenants
    deal_id = rs.deal(north.tenant.id, amount="10000.00", currency="USD")
    payload = {"amount": "9000.00", "discount_pct": "10", "currency": "EUR", "terms": "Net 30"}
    item = rs.draft(north.tenant.id, K.DEAL_PROPOSAL, deal_id, payload=payload)
    with pytest.raises(InvalidInput, match="currency 'EUR' is not the deal's \\(USD\\)"):
        review.approve(actor=north.actor(Role.SALES), item_id=item.id, seen_version=1)
    assert rs.get(Deal, deal_id).amount == Decimal("10000.00")
