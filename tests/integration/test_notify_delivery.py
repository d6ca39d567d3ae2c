"""The outbox's delivery engine against real receivers on loopback, on both engines."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from domain.base import utcnow
from domain.enums import ChannelKind, OutboxStatus, Role
from domain.models import NotifyChannel, OutboxMessage
from services import worker
from services.config import get_settings
from services.errors import DatabaseUnavailable, InvalidInput, PermissionDenied
from services.notify import channels, delivery, outbox
from services.notify.channels import ChannelCreate
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration import notify_support as ns
from tests.support.mail import Mailbox

Pair = tuple[TenantWithUsers, TenantWithUsers]


def _webhook(
    north: TenantWithUsers, url: str, events: list[str] | None = None
) -> channels.ChannelRead:
    return channels.create_channel(
        actor=north.actor(Role.ADMIN),
        channel_in=ChannelCreate(
            name="ops hook", kind=ChannelKind.WEBHOOK, target=url, events=events or []
        ),
    )


def test_a_test_message_reaches_a_webhook_signed_per_standard_webhooks(two_tenants: Pair) -> None:
    north, _ = two_tenants
    with ns.receiver() as box:
        channel = _webhook(north, box.url)
        assert channel.signing_secret and channel.signing_secret.startswith("whsec_")
        assert box.url not in channel.target_hint  # the URL is masked, stored encrypted
        queued = channels.send_test(actor=north.actor(Role.ADMIN), channel_id=channel.id)
        assert queued.status is OutboxStatus.PENDING and box.requests == []
        assert delivery.deliver_due(worker_id="w1", now=utcnow()) == 1
    [(headers, body)] = box.requests
    assert ns.verify_standard_webhook(channel.signing_secret, headers, body)
    assert not ns.verify_standard_webhook(channel.signing_secret, headers, body + b" ")
    assert headers["webhook-id"] == f"msg_revo_{queued.id}"
    assert box.bodies()[0]["type"] == "notify.test"
    [row] = channels.list_deliveries(actor=north.actor(Role.ADMIN))
    assert row.status is OutboxStatus.SENT and row.last_status_code == 200 and row.attempts == 1


def test_a_receiver_that_fails_first_gets_the_retry_after_the_back_off(two_tenants: Pair) -> None:
    north, _ = two_tenants
    with ns.receiver(fail_first=1) as box:
        channel = _webhook(north, box.url)
        channels.send_test(actor=north.actor(Role.ADMIN), channel_id=channel.id)
        now = utcnow()
        assert delivery.deliver_due(worker_id="w1", now=now) == 1
        [row] = ns.messages()
        assert row.status is OutboxStatus.PENDING and row.last_status_code == 503
        assert row.next_attempt_at >= now + timedelta(seconds=get_settings().notify_retry_base_s)
        assert delivery.deliver_due(worker_id="w1", now=now) == 0  # still backing off
        assert delivery.deliver_due(worker_id="w1", now=row.next_attempt_at) == 1
    [row] = ns.messages()
    assert row.status is OutboxStatus.SENT and row.attempts == 2 and ns.attempt_count() == 2
    assert len(set(box.ids())) == 1 and len(box.ids()) == 2  # the same webhook-id both times
    assert all(
        ns.verify_standard_webhook(channel.signing_secret or "", h, b) for h, b in box.requests
    )


def test_a_message_is_dead_lettered_after_its_last_attempt(
    two_tenants: Pair, settings: Callable[..., None]
) -> None:
    north, _ = two_tenants
    settings(notify_max_attempts=3)
    with ns.receiver(fail_first=99) as box:
        channel = _webhook(north, box.url)
        channels.send_test(actor=north.actor(Role.ADMIN), channel_id=channel.id)
        now = utcnow()
        for step in range(5):
            delivery.deliver_due(worker_id="w1", now=now + timedelta(hours=step))
    [row] = ns.messages()
    assert row.status is OutboxStatus.DEAD and row.attempts == 3 and len(box.requests) == 3
    assert "503" in (row.last_error or "") and ns.attempt_count() == 3
    dead = channels.list_deliveries(actor=north.actor(Role.ADMIN), status=OutboxStatus.DEAD)
    assert [d.id for d in dead] == [row.id]


def test_an_email_channel_delivers_over_smtp_and_a_down_server_is_retried(
    two_tenants: Pair,
    mailbox: Mailbox,
) -> None:
    north, _ = two_tenants
    admin = north.actor(Role.ADMIN)
    channel = channels.create_channel(
        actor=admin,
        channel_in=ChannelCreate(name="ops mail", kind=ChannelKind.EMAIL, target="ops@north.test"),
    )
    mailbox.refuse = True
    channels.send_test(actor=admin, channel_id=channel.id)
    now = utcnow()
    delivery.deliver_due(worker_id="w1", now=now)
    [row] = ns.messages()
    assert row.status is OutboxStatus.PENDING and row.last_status_code == 550
    mailbox.refuse = False
    delivery.deliver_due(worker_id="w1", now=now + timedelta(hours=1))
    [row] = ns.messages()
    assert row.status is OutboxStatus.SENT
    [envelope] = mailbox.messages
    assert envelope.rcpt_tos == ["ops@north.test"] and b"Test message" in envelope.content


def test_a_chat_channel_goes_through_apprise_to_a_loopback_receiver(two_tenants: Pair) -> None:
    north, _ = two_tenants
    admin = north.actor(Role.ADMIN)
    with ns.receiver() as box:
        target = box.url.replace("http://", "json://")
        channel = channels.create_channel(
            actor=admin,
            channel_in=ChannelCreate(name="chat", kind=ChannelKind.APPRISE, target=target),
        )
        channels.send_test(actor=admin, channel_id=channel.id)
        delivery.deliver_due(worker_id="w1", now=utcnow())
    [body] = box.bodies()
    assert body["title"].startswith("Test message from Revo Console")
    assert ns.messages()[0].status is OutboxStatus.SENT


def test_channels_refuse_bad_input_and_non_admins(two_tenants: Pair) -> None:
    north, south = two_tenants
    admin = north.actor(Role.ADMIN)
    with pytest.raises(InvalidInput, match="webhook URL"):
        _webhook(north, "ftp://nowhere")
    with pytest.raises(InvalidInput, match="apprise"):
        channels.create_channel(
            actor=admin,
            channel_in=ChannelCreate(name="x", kind=ChannelKind.APPRISE, target="nope<b>"),
        )
    with pytest.raises(InvalidInput, match="Unknown webhook event"):
        _webhook(north, "http://127.0.0.1:9/x", events=["review.approved", "x" * 500])
    with pytest.raises(PermissionDenied):
        channels.list_channels(actor=north.actor(Role.REVIEWER))
    channel = _webhook(north, "http://127.0.0.1:9/x")
    assert channels.list_channels(actor=south.actor(Role.ADMIN)) == []
    with pytest.raises(Exception, match="does not exist"):
        channels.send_test(actor=south.actor(Role.ADMIN), channel_id=channel.id)


def test_three_workers_deliver_each_message_exactly_once(two_tenants: Pair) -> None:
    north, _ = two_tenants
    now = utcnow()
    with ns.receiver() as box:
        channel = _webhook(north, box.url)
        ns.enqueue_many(north.tenant.id, channel.id, 150, now)
        errors: list[BaseException] = []

        def work(name: str) -> None:
            try:
                for _ in range(500):
                    try:
                        if delivery.deliver_due(worker_id=name, now=now, limit=10) == 0:
                            return
                    except DatabaseUnavailable:  # SQLite's single writer was busy: go again
                        continue
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    counts = Counter(box.ids())
    assert len(counts) == 150 and max(counts.values()) == 1
    rows = ns.messages()
    assert {r.status for r in rows} == {OutboxStatus.SENT} and {r.attempts for r in rows} == {1}
    assert ns.attempt_count() == 150


def test_the_worker_loop_delivers_the_outbox_between_runs(two_tenants: Pair) -> None:
    north, _ = two_tenants
    with ns.receiver() as box:
        channel = _webhook(north, box.url)
        channels.send_test(actor=north.actor(Role.ADMIN), channel_id=channel.id)
        assert worker.run_worker(worker_id="w-loop", once=True) == 0  # no agent runs queued
    assert len(box.requests) == 1 and ns.messages()[0].status is OutboxStatus.SENT


def test_a_lease_left_by_a_dead_worker_is_taken_over_with_the_same_webhook_id(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    with ns.receiver() as box:
        channel = _webhook(north, box.url)
        queued = channels.send_test(actor=north.actor(Role.ADMIN), channel_id=channel.id)
        now = utcnow()
        with UnitOfWork(None) as uow:  # a worker leased it, then died before recording
            uow.session.execute(
                update(OutboxMessage).values(
                    status=OutboxStatus.SENDING,
                    lease_owner="dead-worker",
                    lease_expires_at=now + timedelta(seconds=60),
                    attempts=1,
                )
            )
            uow.commit()
        assert delivery.deliver_due(worker_id="w2", now=now) == 0  # its lease still holds
        assert delivery.deliver_due(worker_id="w2", now=now + timedelta(seconds=61)) == 1
    assert box.ids() == [f"msg_revo_{queued.id}"]
    [row] = ns.messages()
    assert row.status is OutboxStatus.SENT and row.attempts == 2 and row.lease_owner is None


def test_hostile_text_is_stored_cleanly_and_channel_urls_are_encrypted_at_rest(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    with ns.receiver() as box:
        channel = _webhook(north, box.url)
        with UnitOfWork(None) as uow:
            stored = uow.session.scalars(select(NotifyChannel)).one()
            assert "127.0.0.1" not in stored.target_enc and "whsec_" not in (
                stored.secret_enc or ""
            )
            outbox.enqueue(
                uow.session,
                tenant_id=north.tenant.id,
                dedupe_key="hostile",
                event="notify.test",
                subject="<script>alert(1)</script>\x00" + "s" * 1000,
                body="nul\x00byte\x07bell " + "x" * 100_000,
                channel_id=channel.id,
                now=utcnow(),
            )
            uow.commit()
        delivery.deliver_due(worker_id="w1", now=utcnow())
    [row] = ns.messages()
    assert row.status is OutboxStatus.SENT
    assert "\x00" not in row.subject + row.body and "\x07" not in row.body
    assert len(row.subject) == 300 and len(row.body) == 20_000
    assert box.bodies()[0]["data"]["subject"].startswith("<script>")  # JSON, not markup
