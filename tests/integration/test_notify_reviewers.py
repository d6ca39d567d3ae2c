"""Reviewers hear about work and webhooks hear about decisions, queued with the change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from domain.base import utcnow
from domain.enums import (
    AgentName,
    ChannelKind,
    DigestMode,
    OutboxStatus,
    ReasonCode,
    ReviewKind,
    Role,
)
from domain.models import AgentRun, OutboxMessage
from services import review, run_lease, runs
from services.errors import InvalidInput
from services.notify import channels, delivery, jobs, prefs
from services.notify.channels import ChannelCreate
from services.notify.prefs import NotifyPrefsUpdate
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests import agent_data
from tests.integration import notify_support as ns
from tests.integration import review_support as rs

Pair = tuple[TenantWithUsers, TenantWithUsers]
K = ReviewKind


def _for(user_id: int, event: str | None = None) -> list[OutboxMessage]:
    return [
        m for m in ns.messages() if m.user_id == user_id and (event is None or m.event == event)
    ]


def test_a_new_item_notifies_the_roles_that_may_decide_it_with_a_link(two_tenants: Pair) -> None:
    north, south = two_tenants
    item = rs.draft(north.tenant.id, K.DEAL_PROPOSAL, rs.deal(north.tenant.id))
    sales, sdr = north.users[Role.SALES].id, north.users[Role.SDR].id
    [note] = _for(sales, "review.new")
    assert note.link and note.link.endswith(f"/review_queue?item={item.id}")
    assert _for(sdr, "review.new") == [] and _for(south.users[Role.SALES].id) == []
    rs.draft(
        north.tenant.id, K.DEAL_PROPOSAL, rs.deal(north.tenant.id)
    )  # another item: another note
    assert len(_for(sales, "review.new")) == 2


def test_four_eyes_tells_other_deciders_but_not_the_first_approver(two_tenants: Pair) -> None:
    north, _ = two_tenants
    deal_id = rs.deal(north.tenant.id, amount="80000.00")
    item = rs.draft(north.tenant.id, K.DEAL_PROPOSAL, deal_id, amount=80_000)
    sales = north.actor(Role.SALES)
    review.approve(actor=sales, item_id=item.id, seen_version=item.row_version)
    assert _for(sales.user_id, "review.second_approval") == []
    [waiting] = _for(north.users[Role.ADMIN].id, "review.second_approval")
    assert f"#{item.id}" in waiting.body


def test_the_triggering_user_hears_that_their_item_was_rejected(two_tenants: Pair) -> None:
    north, _ = two_tenants
    sdr = north.users[Role.SDR]
    item = rs.draft(
        north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id), triggered_by_id=sdr.id
    )
    review.reject(
        actor=north.actor(Role.ADMIN),
        item_id=item.id,
        seen_version=item.row_version,
        reason_code=ReasonCode.TONE,
        comment="Too pushy",
    )
    [note] = _for(sdr.id, "review.rejected")
    assert "tone" in note.body and "Too pushy" in note.body


def test_a_down_smtp_server_never_blocks_a_decision(
    two_tenants: Pair, settings: Callable[..., None]
) -> None:
    north, _ = two_tenants
    settings(smtp_host="127.0.0.1", smtp_port=9)  # nothing listens there
    item = rs.draft(north.tenant.id, K.DEAL_PROPOSAL, rs.deal(north.tenant.id))
    result = review.reject(
        actor=north.actor(Role.SALES),
        item_id=item.id,
        seen_version=item.row_version,
        reason_code=ReasonCode.NOT_NEEDED,
    )
    assert result.ok
    delivery.deliver_due(worker_id="w1", now=utcnow())
    pending = [m for m in ns.messages() if m.user_id]
    assert pending and {m.status for m in pending} == {OutboxStatus.PENDING}
    assert all("SMTP delivery failed" in (m.last_error or "") for m in pending)


def test_subscribed_webhooks_get_signed_decision_events_once(two_tenants: Pair) -> None:
    north, _ = two_tenants
    admin = north.actor(Role.ADMIN)
    with ns.receiver() as box:
        hook = channels.create_channel(
            actor=admin,
            channel_in=ChannelCreate(
                name="erp",
                kind=ChannelKind.WEBHOOK,
                target=box.url,
                events=["review.approved", "review.executed"],
            ),
        )
        item = rs.draft(north.tenant.id, K.DEAL_PROPOSAL, rs.deal(north.tenant.id))
        review.approve(
            actor=north.actor(Role.SALES), item_id=item.id, seen_version=item.row_version
        )
        now = utcnow()
        delivery.drain(worker_id="w1", now=now)
        delivery.drain(worker_id="w2", now=now + timedelta(hours=1))  # nothing is sent again
    types = [b["type"] for b in box.bodies()]
    assert sorted(types) == ["review.approved", "review.executed"]
    assert all(ns.verify_standard_webhook(hook.signing_secret or "", h, b) for h, b in box.requests)
    assert box.bodies()[0]["data"]["item_id"] == item.id


def test_quiet_hours_hold_a_notification_until_they_end_in_local_time(two_tenants: Pair) -> None:
    north, _ = two_tenants
    sales = north.actor(Role.SALES)
    tokyo = ZoneInfo("Asia/Tokyo")
    hour = utcnow().astimezone(tokyo).hour
    prefs.update_my_prefs(
        actor=sales,
        prefs_in=NotifyPrefsUpdate(
            timezone="Asia/Tokyo", quiet_start=hour, quiet_end=(hour + 2) % 24
        ),
    )
    rs.draft(north.tenant.id, K.DEAL_PROPOSAL, rs.deal(north.tenant.id))
    [note] = _for(sales.user_id, "review.new")
    assert note.next_attempt_at.astimezone(tokyo).hour == (hour + 2) % 24
    assert note.next_attempt_at > utcnow()
    delivery.deliver_due(worker_id="w1", now=utcnow())
    assert _for(sales.user_id, "review.new")[0].attempts == 0  # held back, not tried
    delivery.deliver_due(worker_id="w1", now=note.next_attempt_at)
    assert _for(sales.user_id, "review.new")[0].status is OutboxStatus.SENT  # sandboxed mail


def test_a_daily_digest_is_built_at_the_users_local_hour(two_tenants: Pair) -> None:
    north, _ = two_tenants
    sales = north.actor(Role.SALES)
    prefs.update_my_prefs(
        actor=sales,
        prefs_in=NotifyPrefsUpdate(
            mode=DigestMode.DIGEST, digest_hour=9, timezone="America/New_York"
        ),
    )
    rs.draft(north.tenant.id, K.DEAL_PROPOSAL, rs.deal(north.tenant.id))
    rs.draft(north.tenant.id, K.COUNTER_OFFER, rs.deal(north.tenant.id))
    assert {m.status for m in _for(sales.user_id)} == {OutboxStatus.HELD}
    day = utcnow().date() + timedelta(days=1)
    before = datetime(day.year, day.month, day.day, 13, 59, tzinfo=UTC)  # 08:59 in New York
    at = datetime(day.year, day.month, day.day, 14, 0, tzinfo=UTC)  # 09:00 in New York (EST)
    assert jobs.build_digests(now=before) == 0
    assert jobs.build_digests(now=at) == 1
    assert jobs.build_digests(now=at + timedelta(hours=3)) == 0  # once a day
    digests = _for(sales.user_id, "digest")
    assert len(digests) == 1 and "2 notification(s)" in digests[0].subject
    assert digests[0].body.count("/review_queue?item=") == 2
    assert {m.status for m in _for(sales.user_id, "review.new")} == {OutboxStatus.DIGESTED}


def test_claims_about_to_lapse_and_items_due_soon_are_announced_once(two_tenants: Pair) -> None:
    north, _ = two_tenants
    sales = north.actor(Role.SALES)
    item = rs.draft(north.tenant.id, K.DEAL_PROPOSAL, rs.deal(north.tenant.id))
    review.claim(actor=sales, item_id=item.id)
    now = utcnow()
    rs.set_item(
        item.id, claim_expires_at=now + timedelta(minutes=2), due_at=now + timedelta(minutes=20)
    )
    assert jobs.scan_deadlines(now=now) == 2
    jobs.scan_deadlines(now=now + timedelta(seconds=30))
    assert len(_for(sales.user_id, "review.claim_lapsing")) == 1
    assert len(_for(sales.user_id, "review.sla_warning")) == 1
    assert _for(north.users[Role.ADMIN].id, "review.claim_lapsing") == []


def test_preferences_refuse_hostile_input_and_mute_events(two_tenants: Pair) -> None:
    north, _ = two_tenants
    sales = north.actor(Role.SALES)
    with pytest.raises(InvalidInput, match="time zone"):
        prefs.update_my_prefs(actor=sales, prefs_in=NotifyPrefsUpdate(timezone="Mars/Base\x00"))
    with pytest.raises(InvalidInput, match="needs a URL"):
        prefs.update_my_prefs(actor=sales, prefs_in=NotifyPrefsUpdate(channel=ChannelKind.WEBHOOK))
    saved = prefs.update_my_prefs(
        actor=sales, prefs_in=NotifyPrefsUpdate(events=["review.rejected"])
    )
    assert saved.events == ["review.rejected"]
    rs.draft(north.tenant.id, K.DEAL_PROPOSAL, rs.deal(north.tenant.id))
    assert _for(sales.user_id) == []
    assert prefs.get_my_prefs(actor=sales).events == ["review.rejected"]


def test_a_run_that_goes_dead_is_announced_to_run_dead_subscribers(two_tenants: Pair) -> None:
    north, _ = two_tenants
    with ns.receiver() as box:
        channels.create_channel(
            actor=north.actor(Role.ADMIN),
            channel_in=ChannelCreate(
                name="ops", kind=ChannelKind.WEBHOOK, target=box.url, events=["run.dead"]
            ),
        )
        lead_id = agent_data.lead(north.tenant.id, email="ada@acme.test")
        run = runs.enqueue(
            actor=north.actor(Role.SDR), agent=AgentName.SDR, subject_id=lead_id, max_attempts=1
        )
        assert run_lease.claim_next("doomed", lease_s=30) is not None
        with UnitOfWork(None) as uow:  # the worker died: its lease ran out
            uow.session.execute(
                update(AgentRun).values(lease_expires_at=utcnow() - timedelta(seconds=1))
            )
            uow.commit()
        assert run_lease.claim_next("next", lease_s=30) is None
        delivery.drain(worker_id="w1", now=utcnow())
    [body] = box.bodies()
    assert body["type"] == "run.dead" and body["data"]["run_id"] == run.id


def test_the_triggering_user_hears_that_their_item_was_edited_and_others_do_not(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    sdr = north.users[Role.SDR]
    item = rs.draft(
        north.tenant.id, K.OUTREACH_EMAIL, rs.lead(north.tenant.id), triggered_by_id=sdr.id
    )
    review.edit_and_approve(
        actor=north.actor(Role.ADMIN),
        item_id=item.id,
        seen_version=item.row_version,
        edited_payload={"subject": "A better subject", "body": "Hello Jane,\nShall we talk?"},
    )
    assert len(_for(sdr.id, "review.edited")) == 1
    assert _for(north.users[Role.ADMIN].id, "review.edited") == []
