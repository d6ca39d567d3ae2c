"""Listing, claiming and sweeping the review queue on both engines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.base import utcnow
from domain.enums import ReasonCode, ReviewKind, ReviewStatus, Risk, Role
from domain.models import User
from services import review, worker
from services.actor import Actor
from services.errors import Conflict, InvalidInput, InvalidTransition, PermissionDenied
from services.review import ReviewQueueFilter
from services.seed.bulk import seed_bulk
from services.tenants import TenantWithUsers, find_tenant
from services.uow import UnitOfWork
from tests.integration import review_support as rs

Pair = tuple[TenantWithUsers, TenantWithUsers]
K = ReviewKind


def _ids(actor: object, **filters: object) -> list[int]:
    page = review.list_queue(actor=actor, filters=ReviewQueueFilter(**filters), limit=200)  # type: ignore[arg-type]
    return [row.id for row in page.items]


def test_a_claimed_item_is_held_until_the_lease_expires_then_returns_to_the_pool(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    alice, bob = north.actor(Role.REVIEWER), north.actor(Role.ADMIN)

    held = review.claim(actor=alice, item_id=item.id)
    assert held.claimed_by_id == alice.user_id and held.claim_expires_at is not None
    assert held.claim_expires_at > utcnow() + timedelta(minutes=14)
    with pytest.raises(Conflict, match="Reviewer North is working on"):
        review.claim(actor=bob, item_id=item.id)
    with pytest.raises(Conflict, match="working on"):
        review.approve(actor=bob, item_id=item.id, seen_version=held.row_version)
    assert _ids(bob, assignee="unassigned") == []
    assert _ids(alice, assignee="me") == [item.id]

    rs.set_item(item.id, claim_expires_at=utcnow() - timedelta(seconds=1))
    assert _ids(bob, assignee="unassigned") == [item.id]
    assert review.expire_overdue() == 1
    detail = review.get_item(actor=bob, item_id=item.id)
    assert detail.item.claimed_by_id is None and detail.claimed_by is None
    assert detail.audit[-1].action == "review.released"
    assert detail.audit[-1].reason == "claim lease expired"
    taken = review.claim(actor=bob, item_id=item.id)
    assert taken.claimed_by_id == bob.user_id


def test_renewing_extends_the_lease_and_only_the_holder_or_an_admin_releases(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    alice, sdr = north.actor(Role.REVIEWER), north.actor(Role.SDR)
    held = review.claim(actor=alice, item_id=item.id)
    rs.set_item(item.id, claim_expires_at=utcnow() + timedelta(minutes=1))
    renewed = review.renew(actor=alice, item_id=item.id)
    assert renewed.claim_expires_at and renewed.claim_expires_at > utcnow() + timedelta(minutes=14)
    with pytest.raises(Conflict, match="no longer hold"):
        review.renew(actor=sdr, item_id=item.id)
    with pytest.raises(PermissionDenied, match="Reviewer North or an admin"):
        review.release(actor=sdr, item_id=item.id)
    released = review.release(actor=north.actor(Role.ADMIN), item_id=item.id)
    assert released.claimed_by_id is None and held.id == released.id


def test_next_item_claims_the_most_urgent_item_the_actor_may_decide(two_tenants: Pair) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    sdr = north.actor(Role.SDR)
    lead_id = rs.lead(t)
    later = rs.draft(t, K.OUTREACH_EMAIL, lead_id)
    urgent = rs.draft(t, K.OUTREACH_EMAIL, lead_id, priority=0)
    rs.draft(t, K.DUNNING_NOTICE, rs.invoice(t), priority=0)  # not an SDR's kind
    rs.draft(t, K.OUTREACH_EMAIL, lead_id, priority=0, triggered_by_id=sdr.user_id)

    first = review.next_item(actor=sdr)
    assert first is not None and first.id == urgent.id and first.claimed_by_id == sdr.user_id
    second = review.next_item(actor=sdr)
    assert second is not None and second.id == later.id
    assert _ids(sdr, assignee="me") == [later.id]  # moving on released the first
    third = review.next_item(actor=sdr)  # the released first item is back in the pool
    assert third is not None and third.id == urgent.id


def test_next_item_is_none_when_nothing_is_left(two_tenants: Pair) -> None:
    north, _ = two_tenants
    assert review.next_item(actor=north.actor(Role.FINANCE)) is None
    with pytest.raises(PermissionDenied):
        review.next_item(actor=north.actor(Role.VIEWER))


def test_pending_items_past_their_expiry_are_expired_by_the_sweep(two_tenants: Pair) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    fresh = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id, email="b@x.test"))
    rs.set_item(item.id, expires_at=utcnow() - timedelta(minutes=1))
    assert review.expire_overdue() == 1
    actor = north.actor(Role.REVIEWER)
    assert review.get_item(actor=actor, item_id=item.id).item.status is ReviewStatus.EXPIRED
    assert review.get_item(actor=actor, item_id=fresh.id).item.status is ReviewStatus.PENDING
    assert review.expire_overdue() == 0


def test_an_item_past_its_expiry_cannot_be_approved_or_rejected_before_the_sweep(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    rs.set_item(item.id, expires_at=utcnow() - timedelta(seconds=1))
    actor = north.actor(Role.REVIEWER)
    version = review.get_item(actor=actor, item_id=item.id).item.row_version
    with pytest.raises(InvalidTransition, match=r"expired at .* can no longer be decided"):
        review.approve(actor=actor, item_id=item.id, seen_version=version)
    with pytest.raises(InvalidTransition, match="expired"):
        review.reject(
            actor=actor, item_id=item.id, seen_version=version, reason_code=ReasonCode.TONE
        )
    assert rs.count_emails() == 0
    assert review.get_item(actor=actor, item_id=item.id).item.status is ReviewStatus.PENDING
    assert review.next_item(actor=actor) is None  # "next item" passes over it too


def test_every_worker_runs_the_sla_sweep_so_expired_items_leave_the_queue(
    two_tenants: Pair,
) -> None:
    north, south = two_tenants
    mine = rs.draft(north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    theirs = rs.draft(south.tenant.id, K.OUTREACH_EMAIL, rs.lead(south.tenant.id))
    for item in (mine, theirs):
        rs.set_item(item.id, expires_at=utcnow() - timedelta(minutes=1))
    worker.run_worker(worker_id="sweeper", once=True)
    for tenant, item in ((north, mine), (south, theirs)):
        read = review.get_item(actor=tenant.actor(Role.REVIEWER), item_id=item.id)
        assert read.item.status is ReviewStatus.EXPIRED
        assert read.audit[-1].action == "review.expired"


def test_overdue_items_are_flagged_and_counted(two_tenants: Pair) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    lead_id = rs.lead(t)
    late = rs.draft(t, K.OUTREACH_EMAIL, lead_id)
    soon = rs.draft(t, K.OUTREACH_EMAIL, lead_id)
    rs.draft(t, K.OUTREACH_EMAIL, lead_id)
    rs.set_item(late.id, due_at=utcnow() - timedelta(hours=1))
    rs.set_item(soon.id, due_at=utcnow() + timedelta(minutes=30))
    actor = north.actor(Role.REVIEWER)
    counts = review.queue_counts(actor=actor)
    assert (counts.pending, counts.overdue, counts.due_soon, counts.mine) == (3, 1, 1, 0)
    page = review.list_queue(actor=actor)
    assert [r.overdue for r in page.items] == [True, False, False]
    assert page.total == 3 and not page.total_capped
    assert _ids(actor, due="overdue") == [late.id]
    assert _ids(actor, due="due_soon") == [soon.id]
    assert len(_ids(actor, due="not_due")) == 2


def test_the_queue_filters_by_kind_status_subject_confidence_risk_and_age(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    actor = north.actor(Role.REVIEWER)
    email = rs.draft(t, K.OUTREACH_EMAIL, rs.lead(t), confidence=0.3, risk=Risk.HIGH)
    dun = rs.draft(t, K.DUNNING_NOTICE, rs.invoice(t), label="Invoice INV-1 (Example GmbH)")
    old = rs.draft(t, K.DEAL_PROPOSAL, rs.deal(t), label="Robot arms", confidence=0.95)
    rs.set_item(old.id, created_at=utcnow() - timedelta(days=3))
    review.reject(actor=actor, item_id=dun.id, seen_version=1, reason_code=ReasonCode.DUPLICATE)

    assert _ids(actor, kinds=[K.OUTREACH_EMAIL]) == [email.id]
    assert set(_ids(actor, statuses=[])) == {email.id, dun.id, old.id}
    assert _ids(actor, statuses=[ReviewStatus.REJECTED]) == [dun.id]
    assert _ids(actor, subject="robot") == [old.id]
    assert _ids(actor, min_confidence=0.9) == [old.id]
    assert _ids(actor, max_confidence=0.5) == [email.id]
    assert _ids(actor, risks=[Risk.HIGH]) == [email.id]
    assert _ids(actor, older_than_hours=24) == [old.id]
    assert _ids(actor, newer_than_hours=24) == [email.id]
    assert _ids(actor, search="shall we TALK") == [email.id]
    assert _ids(actor, search="100%_") == []


@pytest.mark.parametrize("sort", ["due", "priority", "age", "confidence"])
def test_keyset_pages_walk_every_item_once_in_sort_order(two_tenants: Pair, sort: str) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    lead_id = rs.lead(t)
    made = [
        rs.draft(t, K.OUTREACH_EMAIL, lead_id, priority=i % 3, confidence=round(0.1 * (i % 4), 2))
        for i in range(7)
    ]
    actor = north.actor(Role.VIEWER)
    seen: list[int] = []
    cursor = None
    while True:
        page = review.list_queue(
            actor=actor,
            filters=ReviewQueueFilter(sort=sort),
            cursor=cursor,
            limit=3,  # type: ignore[arg-type]
        )
        seen += [r.id for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(m.id for m in made) and len(seen) == len(set(seen))
    full = review.list_queue(actor=actor, filters=ReviewQueueFilter(sort=sort), limit=50)  # type: ignore[arg-type]
    assert [r.id for r in full.items] == seen


def test_a_damaged_cursor_or_page_size_is_refused_with_a_message(two_tenants: Pair) -> None:
    north, _ = two_tenants
    actor = north.actor(Role.VIEWER)
    with pytest.raises(InvalidInput, match="damaged"):
        review.list_queue(actor=actor, cursor="not-a-cursor")
    with pytest.raises(InvalidInput, match="damaged"):
        review.list_queue(actor=actor, cursor="WyJ4IiwxXQ")  # ["x",1] is not a time
    with pytest.raises(InvalidInput):
        review.list_queue(actor=actor, limit=0)


def test_the_detail_shows_the_artifacts_context_and_history(two_tenants: Pair) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    inv = rs.invoice(t, last_dunned_at=utcnow() - timedelta(days=30))
    item = rs.draft(t, K.DUNNING_NOTICE, inv, amount=20_000)
    detail = review.get_item(actor=north.actor(Role.FINANCE), item_id=item.id)
    assert detail.context.email_to == "Example GmbH <ap@example.test>"
    assert detail.context.facts["Invoice"] == "INV-1"
    assert detail.context.facts["Days overdue"] == "20"
    assert detail.may_decide and detail.needs_second_approver
    assert [a.action for a in detail.audit] == ["review.submitted"]
    assert not review.get_item(actor=north.actor(Role.SDR), item_id=item.id).may_decide
    assert not review.get_item(actor=north.actor(Role.VIEWER), item_id=item.id).may_decide


def test_the_list_total_is_exact_on_a_short_list_and_capped_at_a_thousand_on_a_long_one(
    db_url: str,
) -> None:
    seed_bulk(review_items=1_100, runs=0, llm_calls=0, events=0, tenant_slug="big")
    tenant = find_tenant(slug="big")
    assert tenant is not None
    with UnitOfWork(None, readonly=True) as uow:
        admin = uow.session.scalar(
            select(User).where(User.tenant_id == tenant.id, User.role == Role.ADMIN)
        )
        assert admin is not None
        actor = Actor(user_id=admin.id, tenant_id=tenant.id, role=Role.ADMIN, label="admin")
    everything = ReviewQueueFilter(statuses=list(ReviewStatus))
    page = review.list_queue(actor=actor, filters=everything, limit=10)
    assert (page.total, page.total_capped) == (1_000, True)
    later = review.list_queue(actor=actor, filters=everything, cursor=page.next_cursor)
    assert (later.total, later.total_capped) == (1_000, True)
    one_kind = ReviewQueueFilter(kinds=[K.CONTRACT], statuses=[ReviewStatus.EXPIRED])
    few = review.list_queue(actor=actor, filters=one_kind, limit=200)
    assert few.next_cursor is None and few.total == len(few.items) > 0
    assert not few.total_capped
    counted = review.list_queue(actor=actor, filters=one_kind, limit=1)
    assert (counted.total, counted.total_capped) == (few.total, False)
