"""A signed-in user's own notification preferences and the notifications sent to them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select

from domain.base import utcnow
from domain.enums import ChannelKind, DigestMode, OutboxStatus
from domain.models import NotifyPreference, OutboxMessage
from services import audit
from services.actor import Actor
from services.errors import InvalidInput
from services.notify import crypto, outbox, schedule, senders
from services.notify.prefs_model import USER_EVENTS, Pref
from services.permissions import Action, require
from services.uow import UnitOfWork


class NotifyPrefsUpdate(BaseModel):
    events: list[str] = Field(default_factory=lambda: list(USER_EVENTS))
    channel: ChannelKind = ChannelKind.EMAIL
    target: str | None = Field(default=None, max_length=2000)  # webhook / apprise URL
    mode: DigestMode = DigestMode.IMMEDIATE
    digest_hour: int = Field(default=8, ge=0, le=23)
    timezone: str = Field(default="UTC", max_length=64)
    quiet_start: int | None = Field(default=None, ge=0, le=23)
    quiet_end: int | None = Field(default=None, ge=0, le=23)

    @field_validator("events")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = set(value) - set(USER_EVENTS)
        if unknown:
            raise ValueError(f"unknown event(s): {', '.join(sorted(unknown))[:200]}")
        return sorted(set(value))


class NotifyPrefsRead(BaseModel):
    events: list[str]
    channel: ChannelKind
    target_hint: str | None
    mode: DigestMode
    digest_hour: int
    timezone: str
    quiet_start: int | None
    quiet_end: int | None


class MyNotificationRead(BaseModel):
    id: int
    event: str
    subject: str
    link: str | None
    status: OutboxStatus
    created_at: datetime
    sent_at: datetime | None


def _read(row: NotifyPreference | None) -> NotifyPrefsRead:
    pref = Pref.of(row) if row else Pref.default()
    hint = None
    if row is not None and row.target_enc:
        try:
            hint = crypto.mask(crypto.decrypt(row.target_enc))
        except InvalidInput:
            hint = "(cannot be decrypted)"
    return NotifyPrefsRead(
        events=sorted(pref.events),
        channel=pref.channel,
        target_hint=hint,
        mode=DigestMode.DIGEST if pref.digest else DigestMode.IMMEDIATE,
        digest_hour=pref.digest_hour,
        timezone=pref.timezone,
        quiet_start=pref.quiet_start,
        quiet_end=pref.quiet_end,
    )


def get_my_prefs(*, actor: Actor) -> NotifyPrefsRead:
    """The actor's notification preferences (the defaults until they save some)."""
    require(actor, Action.MANAGE_MY_NOTIFICATIONS)
    with UnitOfWork(actor, readonly=True) as uow:
        return _read(uow.session.get(NotifyPreference, actor.user_id))


def update_my_prefs(*, actor: Actor, prefs_in: NotifyPrefsUpdate) -> NotifyPrefsRead:
    """Save the actor's preferences (a new target URL replaces the stored, encrypted one)."""
    require(actor, Action.MANAGE_MY_NOTIFICATIONS)
    if schedule.zone(prefs_in.timezone).key != prefs_in.timezone:
        raise InvalidInput(f"Unknown time zone {prefs_in.timezone[:64]!r}; use e.g. Europe/Berlin.")
    target = (prefs_in.target or "").strip() or None
    if target and prefs_in.channel is ChannelKind.WEBHOOK and not target.startswith("http"):
        raise InvalidInput("A webhook URL starts with http:// or https://.")
    if target and prefs_in.channel is ChannelKind.APPRISE and not senders.valid_apprise_url(target):
        raise InvalidInput("apprise does not recognise this URL (e.g. slack://…, ntfy://…).")
    with UnitOfWork(actor) as uow:
        row = uow.session.get(NotifyPreference, actor.user_id)
        before = _read(row).model_dump(mode="json")
        if row is None:
            row = NotifyPreference(user_id=actor.user_id, tenant_id=actor.tenant_id)
            uow.session.add(row)
        if prefs_in.channel is not ChannelKind.EMAIL and not (target or row.target_enc):
            raise InvalidInput(f"The {prefs_in.channel.value} channel needs a URL.")
        row.events = prefs_in.events
        row.channel = prefs_in.channel
        if target:
            row.target_enc = crypto.encrypt(target)
        row.mode = prefs_in.mode
        row.digest_hour = prefs_in.digest_hour
        row.timezone = prefs_in.timezone
        row.quiet_start = prefs_in.quiet_start
        row.quiet_end = prefs_in.quiet_end
        row.updated_at = utcnow()
        uow.session.flush()
        after = _read(row)
        audit.record(
            uow,
            action="notify.prefs_updated",
            entity_type="user",
            entity_id=actor.user_id,
            before=before,
            after=after.model_dump(mode="json"),
        )
        uow.commit()
        return after


def list_my_notifications(*, actor: Actor, limit: int = 50) -> list[MyNotificationRead]:
    """The latest notifications queued for the actor, newest first."""
    require(actor, Action.MANAGE_MY_NOTIFICATIONS)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.user_id == actor.user_id)
            .order_by(OutboxMessage.id.desc())
            .limit(max(1, min(limit, 200)))
        ).all()
        return [
            MyNotificationRead(
                id=r.id,
                event=r.event,
                subject=r.subject,
                link=r.link,
                status=r.status,
                created_at=r.created_at,
                sent_at=r.sent_at,
            )
            for r in rows
        ]


def send_me_test(*, actor: Actor) -> MyNotificationRead:
    """Queue a test notification to the actor through their chosen channel."""
    require(actor, Action.MANAGE_MY_NOTIFICATIONS)
    now = utcnow()
    with UnitOfWork(actor) as uow:
        message = outbox.enqueue(
            uow.session,
            tenant_id=actor.tenant_id,
            dedupe_key=f"test:u{actor.user_id}:{now.isoformat()}",
            event="notify.test",
            subject="Test notification from Revo Console",
            body="Your notification channel works.",
            user_id=actor.user_id,
            now=now,
        )
        if message is None:
            raise InvalidInput("A test was queued a moment ago; wait a second and retry.")
        audit.record(
            uow,
            action="notify.test_sent",
            entity_type="user",
            entity_id=actor.user_id,
            after={"outbox_id": message.id},
        )
        uow.commit()
        return MyNotificationRead(
            id=message.id,
            event=message.event,
            subject=message.subject,
            link=None,
            status=message.status,
            created_at=message.created_at,
            sent_at=None,
        )
