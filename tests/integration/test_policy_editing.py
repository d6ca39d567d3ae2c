"""Editing review policies: validated with clear messages, previewed, audited with before/after,
and effective at once for pending items (deciders, four-eyes, self-approval, due and expiry)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from domain.enums import ReviewKind, ReviewStatus, Role
from domain.models import AuditEntry
from services import review
from services.errors import InvalidInput, PermissionDenied, PolicyRefused
from services.tenants import TenantWithUsers
from tests.integration import review_support as rs

Pair = tuple[TenantWithUsers, TenantWithUsers]
K = ReviewKind


@pytest.mark.parametrize(
    ("policy_in", "message"),
    [
        ({"four_eyes_limits": {"deal_proposal": -1}}, "between 0 and"),
        ({"four_eyes_limits": {"deal_proposal": "NaN"}}, "finite number"),
        ({"four_eyes_limits": {"deal_proposal": float("inf")}}, "finite number"),
        ({"four_eyes_limits": {"deal_proposal": "lots"}}, "must be a number"),
        ({"four_eyes_limits": {"deal_proposal": True}}, "must be a number"),
        ({"deciders": {"deal_proposal": ["admin", "wizard"]}}, "unknown role 'wizard'"),
        ({"deciders": {"deal_proposal": []}}, "at least one role"),
        ({"deciders": {"no_such_kind": ["admin"]}}, "no_such_kind"),
        ({"sla_hours": {"contract": 0}}, "sla_hours.contract must be between"),
        ({"expiry_hours": {"contract": float("nan")}}, "finite number"),
        ({"expiry_hours": {"contract": 10**9}}, "expiry_hours.contract must be between"),
        ({"auto_expire": {"contract": "no"}}, "true or false"),
        ({"triggerer_may_approve": {"contract": 1}}, "true or false"),
    ],
)
def test_a_bad_policy_is_refused_with_a_message_naming_the_field(
    two_tenants: Pair, policy_in: dict[str, Any], message: str
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    before = review.get_policy(actor=admin)
    with pytest.raises(InvalidInput, match=message):
        review.preview_policy(actor=admin, policy_in=policy_in)
    with pytest.raises(InvalidInput, match=message):
        review.update_policy(actor=admin, policy_in=policy_in)
    assert review.get_policy(actor=admin) == before


def test_only_admins_preview_or_change_policies(two_tenants: Pair) -> None:
    for role in (Role.REVIEWER, Role.VIEWER, Role.FINANCE):
        with pytest.raises(PermissionDenied):
            review.preview_policy(actor=two_tenants[0].actor(role), policy_in={})


def test_preview_counts_pending_items_whose_deciders_change_and_saving_applies_it(
    two_tenants: Pair,
) -> None:
    north, south = two_tenants
    tid = north.tenant.id
    small = rs.draft(tid, K.DEAL_PROPOSAL, rs.deal(tid, amount="1000.00"), amount=1_000)
    big = rs.draft(tid, K.DEAL_PROPOSAL, rs.deal(tid, amount="60000.00"), amount=60_000)
    rs.draft(tid, K.OUTREACH_EMAIL, rs.lead(tid))
    rs.draft(
        south.tenant.id, K.DEAL_PROPOSAL, rs.deal(south.tenant.id, amount="1000.00"), amount=1_000
    )
    admin = north.actor(Role.ADMIN)

    # Four-eyes from 500: the small deal now needs two approvers; the big one already did.
    change = {"four_eyes_limits": {"deal_proposal": "500"}}
    impact = review.preview_policy(actor=admin, policy_in=change)
    assert (impact.pending, impact.change_deciders, impact.retimed) == (3, 1, 0)
    assert (
        review.get_policy(actor=admin).four_eyes_limits[K.DEAL_PROPOSAL] == 50_000
    )  # preview only

    # Sales no longer decides proposals: both pending proposals change deciders.
    no_sales = {"deciders": {"deal_proposal": ["admin", "reviewer"]}}
    assert review.preview_policy(actor=admin, policy_in=no_sales).change_deciders == 2
    review.update_policy(actor=admin, policy_in=no_sales)
    with pytest.raises(PolicyRefused, match="role may decide kind"):
        review.approve(
            actor=north.actor(Role.SALES), item_id=small.id, seen_version=small.row_version
        )
    done = review.approve(
        actor=north.actor(Role.REVIEWER), item_id=big.id, seen_version=big.row_version
    )
    assert done.item.status is ReviewStatus.PENDING  # four-eyes still applies to the big deal
    entry = rs.rows(
        select(AuditEntry)
        .where(AuditEntry.action == "review_policy.updated")
        .order_by(AuditEntry.id)
    )[-1]
    assert entry.tenant_id == tid
    assert entry.before == {
        "deciders": review.get_policy(actor=south.actor(Role.ADMIN)).model_dump(mode="json")[
            "deciders"
        ]
    }
    assert entry.after and entry.after["deciders"]["deal_proposal"] == ["admin", "reviewer"]


def test_new_sla_and_expiry_retime_pending_items_and_auto_expiry_can_be_turned_off(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    tid = north.tenant.id
    item = rs.draft(tid, K.CONTRACT, rs.lead(tid))
    admin = north.actor(Role.ADMIN)
    change = {"sla_hours": {"contract": 1}, "auto_expire": {"contract": False}}
    assert review.preview_policy(actor=admin, policy_in=change).retimed == 1
    review.update_policy(actor=admin, policy_in=change)
    now = review.get_item(actor=admin, item_id=item.id).item
    assert now.due_at == item.created_at + timedelta(hours=1)
    assert now.expires_at is None
    assert review.expire_overdue(now=item.created_at + timedelta(days=30)) == 0
    assert review.get_item(actor=admin, item_id=item.id).item.status is ReviewStatus.PENDING
    entry = rs.rows(select(AuditEntry).where(AuditEntry.action == "review_policy.updated"))[-1]
    assert entry.reason == "1 pending items re-timed"
    assert set(entry.after or {}) == {"sla_hours", "auto_expire"}


def test_the_triggerer_may_approve_their_own_draft_only_where_the_policy_allows(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    tid = north.tenant.id
    sdr = north.users[Role.SDR]
    item = rs.draft(tid, K.OUTREACH_EMAIL, rs.lead(tid), triggered_by_id=sdr.id)
    with pytest.raises(PolicyRefused, match="no self-approval"):
        review.approve(actor=sdr.as_actor(), item_id=item.id, seen_version=item.row_version)
    assert review.next_item(actor=sdr.as_actor()) is None  # "next" skips their own run's draft
    review.update_policy(
        actor=north.actor(Role.ADMIN), policy_in={"triggerer_may_approve": {"outreach_email": True}}
    )
    claimed = review.next_item(actor=sdr.as_actor())
    assert claimed is not None and claimed.id == item.id
    done = review.approve(actor=sdr.as_actor(), item_id=item.id, seen_version=claimed.row_version)
    assert done.item.status in {ReviewStatus.APPROVED, ReviewStatus.EXECUTED}
