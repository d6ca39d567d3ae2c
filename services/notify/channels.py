"""Admins' notification channels and webhook endpoints: create, switch off, send a test, and
the list of deliveries with their status and response code."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from domain.base import utcnow
from domain.enums import ChannelKind, OutboxStatus
from domain.models import NotifyChannel, OutboxMessage
from services import audit
from services.actor import Actor
from services.errors import InvalidInput
from services.notify import crypto, outbox, senders
from services.permissions import Action, require
from services.uow import UnitOfWork

WEBHOOK_EVENTS = (
    "review.submitted",
    "review.approved",
    "review.rejected",
    "review.expired",
    "review.executed",
    "review.execution_failed",
    "run.dead",
)
MAX_TARGET = 2000


class ChannelCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    kind: ChannelKind
    target: str = Field(min_length=3, max_length=MAX_TARGET)
    events: list[str] = Field(default_factory=list, max_length=len(WEBHOOK_EVENTS))

    @field_validator("name", "target")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value or "\x00" in value:
            raise ValueError("must be non-empty text without NUL characters")
        return value


class ChannelRead(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    kind: ChannelKind
    target_hint: str
    events: list[str]
    is_active: bool
    created_at: datetime
    signing_secret: str | None = None  # shown once, when a webhook endpoint is created


class DeliveryRead(BaseModel):
    id: int
    event: str
    channel: str
    subject: str
    status: OutboxStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def _validate(channel_in: ChannelCreate) -> None:
    unknown = set(channel_in.events) - set(WEBHOOK_EVENTS)
    if unknown:
        raise InvalidInput(f"Unknown webhook event(s): {', '.join(sorted(unknown))[:200]}.")
    target = channel_in.target
    if channel_in.kind is ChannelKind.WEBHOOK and not target.startswith(("http://", "https://")):
        raise InvalidInput("A webhook URL starts with http:// or https://.")
    if channel_in.kind is ChannelKind.EMAIL and (
        "@" not in target or any(c in target for c in " \r\n")
    ):
        raise InvalidInput("An email channel needs one email address.")
    if channel_in.kind is ChannelKind.APPRISE and not senders.valid_apprise_url(target):
        raise InvalidInput("apprise does not recognise this URL (e.g. slack://…, ntfy://…).")


def _read(channel: NotifyChannel, secret: str | None = None) -> ChannelRead:
    try:
        hint = crypto.mask(crypto.decrypt(channel.target_enc))
    except InvalidInput:
        hint = "(cannot be decrypted)"
    return ChannelRead(
        id=channel.id,
        name=channel.name,
        kind=channel.kind,
        target_hint=hint,
        events=list(channel.events),
        is_active=channel.is_active,
        created_at=channel.created_at,
        signing_secret=secret,
    )


def create_channel(*, actor: Actor, channel_in: ChannelCreate) -> ChannelRead:
    """Add a channel; a webhook endpoint gets a signing secret, shown once."""
    require(actor, Action.MANAGE_ALERTS)
    _validate(channel_in)
    secret = senders.new_signing_secret() if channel_in.kind is ChannelKind.WEBHOOK else None
    with UnitOfWork(actor) as uow:
        channel = NotifyChannel(
            tenant_id=actor.tenant_id,
            name=channel_in.name,
            kind=channel_in.kind,
            target_enc=crypto.encrypt(channel_in.target),
            secret_enc=crypto.encrypt(secret) if secret else None,
            events=sorted(set(channel_in.events)),
            is_active=True,
            created_by_id=actor.user_id,
            created_at=utcnow(),
        )
        uow.session.add(channel)
        uow.session.flush()
        audit.record(
            uow,
            action="notify.channel_created",
            entity_type="notify_channel",
            entity_id=channel.id,
            after={"name": channel.name, "kind": channel.kind.value, "events": channel.events},
        )
        uow.commit()
        return _read(channel, secret)


def list_channels(*, actor: Actor) -> list[ChannelRead]:
    """The tenant's channels, newest first."""
    require(actor, Action.MANAGE_ALERTS)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.scalars(select(NotifyChannel).order_by(NotifyChannel.id.desc()))
        return [_read(row) for row in rows]


def set_active(*, actor: Actor, channel_id: int, active: bool) -> ChannelRead:
    """Switch a channel on or off (queued messages to a switched-off channel are dropped)."""
    require(actor, Action.MANAGE_ALERTS)
    with UnitOfWork(actor) as uow:
        channel = uow.get(
            NotifyChannel, channel_id, missing=f"Channel #{channel_id} does not exist."
        )
        before = {"is_active": channel.is_active}
        channel.is_active = active
        audit.record(
            uow,
            action="notify.channel_updated",
            entity_type="notify_channel",
            entity_id=channel.id,
            before=before,
            after={"is_active": active},
        )
        uow.commit()
        return _read(channel)


def send_test(*, actor: Actor, channel_id: int) -> DeliveryRead:
    """Queue a test message to the channel; the worker delivers it like any other."""
    require(actor, Action.MANAGE_ALERTS)
    now = utcnow()
    with UnitOfWork(actor) as uow:
        channel = uow.get(
            NotifyChannel, channel_id, missing=f"Channel #{channel_id} does not exist."
        )
        message = outbox.enqueue(
            uow.session,
            tenant_id=actor.tenant_id,
            dedupe_key=f"test:{channel.id}:{now.isoformat()}",
            event="notify.test",
            subject=f"Test message from Revo Console ({channel.name})",
            body=f"{actor.display} sent this test to check the channel works.",
            channel_id=channel.id,
            now=now,
        )
        if message is None:
            raise InvalidInput("A test was queued a moment ago; wait a second and retry.")
        audit.record(
            uow,
            action="notify.test_sent",
            entity_type="notify_channel",
            entity_id=channel.id,
            after={"outbox_id": message.id},
        )
        uow.commit()
        return _delivery(message, channel.name)


def _delivery(row: OutboxMessage, channel: str) -> DeliveryRead:
    return DeliveryRead(
        id=row.id,
        event=row.event,
        channel=channel,
        subject=row.subject,
        status=row.status,
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


def list_deliveries(
    *, actor: Actor, status: OutboxStatus | None = None, limit: int = 100
) -> list[DeliveryRead]:
    """The tenant's latest outbox messages with their state and last response code."""
    require(actor, Action.MANAGE_ALERTS)
    limit = max(1, min(limit, 500))
    with UnitOfWork(actor, readonly=True) as uow:
        names = {
            cid: name
            for cid, name in uow.session.execute(select(NotifyChannel.id, NotifyChannel.name))
        }
        query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
        if status is not None:
            query = query.where(OutboxMessage.status == status)
        rows = uow.session.scalars(query).all()
        return [
            _delivery(r, names.get(r.channel_id, "—") if r.channel_id else f"user #{r.user_id}")
            for r in rows
        ]


__all__ = [
    "WEBHOOK_EVENTS",
    "ChannelCreate",
    "ChannelKind",
    "ChannelRead",
    "DeliveryRead",
    "OutboxStatus",
    "create_channel",
    "list_channels",
    "list_deliveries",
    "send_test",
    "set_active",
]
