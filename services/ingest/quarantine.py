"""The quarantine (list, fix and retry, discard), connector health, and manual note events."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from domain.base import utcnow
from domain.enums import BreakerState, EventSeverity, EventSource, QuarantineStatus
from domain.models import ConnectorHealth, Event, QuarantinedRecord
from services import audit
from services.actor import Actor
from services.config import get_settings
from services.errors import InvalidInput
from services.ingest import store
from services.ingest.schema import EventIn, payload_hash
from services.ingest.service import parse_bytes
from services.ingest.values import safe_text
from services.pagination import Page, decode_cursor, encode_cursor
from services.permissions import Action, require
from services.uow import UnitOfWork

METRICS_HEADER = "timestamp,service,metric,value"


class QuarantineRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: EventSource
    origin: str
    position: str
    reason: str
    raw: str
    service: str | None
    status: QuarantineStatus
    created_at: datetime
    resolved_at: datetime | None


class RetryOutcome(BaseModel):
    record: QuarantineRead
    inserted: int
    accepted: bool


class ConnectorHealthRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: EventSource
    breaker_state: BreakerState
    consecutive_failures: int
    opened_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    runs: int
    events_ingested: int
    duplicates_skipped: int
    records_quarantined: int


class ManualEventCreate(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    body: str = Field(default="", max_length=20_000)
    service: str | None = Field(default=None, max_length=100)
    severity: EventSeverity = EventSeverity.INFO
    occurred_at: datetime | None = None


def list_quarantine(
    *,
    actor: Actor,
    status: QuarantineStatus = QuarantineStatus.PENDING,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[QuarantineRead]:
    """Quarantined records of the tenant, newest first, one keyset page at a time."""
    require(actor, Action.INGEST_EVENTS)
    limit = max(1, min(limit, 200))
    q = select(QuarantinedRecord).where(QuarantinedRecord.status == status)
    if cursor:
        (last_id,) = decode_cursor(cursor, arity=1)
        q = q.where(QuarantinedRecord.id < int(last_id))
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.scalars(q.order_by(QuarantinedRecord.id.desc()).limit(limit + 1)).all()
        items = [QuarantineRead.model_validate(r) for r in rows[:limit]]
    more = len(rows) > limit
    return Page(items=items, next_cursor=encode_cursor([items[-1].id]) if more else None)


def retry_quarantined(*, actor: Actor, record_id: int, raw: str) -> RetryOutcome:
    """Run a fixed version of a quarantined record through its connector again."""
    require(actor, Action.INGEST_EVENTS)
    settings = get_settings()
    now = utcnow()
    with UnitOfWork(actor) as uow:
        rec = uow.get(
            QuarantinedRecord, record_id, missing=f"There is no quarantined record #{record_id}."
        )
        if rec.status is not QuarantineStatus.PENDING:
            raise InvalidInput(f"Record #{record_id} is already {rec.status.value}.")
        if rec.source is EventSource.GIT:
            raise InvalidInput("A quarantined commit cannot be edited; ingest the repo again.")
        text = raw.strip()
        if rec.source is EventSource.METRICS and not text.lower().startswith("timestamp"):
            text = f"{METRICS_HEADER}\n{text}"
        before = audit.snapshot(rec, ["raw", "reason", "status"])
        # A lone surrogate typed into the fix cannot be UTF-8: it reaches the connector as the
        # bytes it is, and is refused there like any line that is not UTF-8.
        data = text.encode("utf-8", "surrogatepass")
        parsed = parse_bytes(rec.source, data, settings=settings, now=now,
                             service=rec.service)  # fmt: skip
        inserted = 0
        if parsed.rejected:
            rec.raw = safe_text(raw)
            rec.reason = "; ".join(r.reason for r in parsed.rejected)
        else:
            inserted = store.insert_events(
                uow.session, tenant_id=actor.tenant_id, events=parsed.events, now=now
            )
            rec.raw, rec.status = safe_text(raw), QuarantineStatus.RESOLVED
            rec.resolved_at, rec.resolved_by_id = now, actor.user_id
        audit.record(uow, action="quarantine.retried", entity_type="quarantined_record",
                     entity_id=rec.id, before=before,
                     after={**audit.snapshot(rec, ["raw", "reason", "status"]),
                            "inserted": inserted})  # fmt: skip
        uow.commit()
        return RetryOutcome(
            record=QuarantineRead.model_validate(rec),
            inserted=inserted,
            accepted=not parsed.rejected,
        )


def discard_quarantined(*, actor: Actor, record_id: int, reason: str) -> QuarantineRead:
    """Give up on a quarantined record (it stays listed as discarded, with the reason)."""
    require(actor, Action.INGEST_EVENTS)
    if not reason.strip():
        raise InvalidInput("Say why the record is discarded.")
    with UnitOfWork(actor) as uow:
        rec = uow.get(
            QuarantinedRecord, record_id, missing=f"There is no quarantined record #{record_id}."
        )
        if rec.status is not QuarantineStatus.PENDING:
            raise InvalidInput(f"Record #{record_id} is already {rec.status.value}.")
        before = audit.snapshot(rec, ["status", "reason"])
        rec.status, rec.resolved_at, rec.resolved_by_id = (
            QuarantineStatus.DISCARDED, utcnow(), actor.user_id
        )  # fmt: skip
        audit.record(uow, action="quarantine.discarded", entity_type="quarantined_record",
                     entity_id=rec.id, before=before,
                     after=audit.snapshot(rec, ["status", "reason"]), reason=reason)  # fmt: skip
        uow.commit()
        return QuarantineRead.model_validate(rec)


def connector_health(*, actor: Actor) -> list[ConnectorHealthRead]:
    """Health and breaker state of every connector the tenant has used."""
    require(actor, Action.INGEST_EVENTS)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.scalars(select(ConnectorHealth).order_by(ConnectorHealth.source)).all()
        return [ConnectorHealthRead.model_validate(r) for r in rows]


def add_manual_event(*, actor: Actor, event_in: ManualEventCreate) -> int:
    """Record a note typed by a person as a manual event on the timeline; returns its id."""
    require(actor, Action.EDIT_INVESTIGATION)
    now = utcnow()
    occurred = event_in.occurred_at or now
    if occurred.tzinfo is None:
        raise InvalidInput("The note's time needs a time zone.")
    if occurred > now:
        raise InvalidInput("A note cannot be dated in the future.")
    event = EventIn(
        source=EventSource.MANUAL,
        type="note",
        occurred_at=occurred,
        severity=event_in.severity,
        service=event_in.service or None,
        title=event_in.title,
        data={"body": event_in.body, "author": actor.display, "author_id": actor.user_id},
        external_id=f"manual:{uuid.uuid4()}",
        payload_hash=payload_hash(f"{event_in.title}\n{event_in.body}"),
    )
    with UnitOfWork(actor) as uow:
        store.insert_events(uow.session, tenant_id=actor.tenant_id, events=[event], now=now)
        event_id = uow.session.scalar(
            select(Event.id).where(Event.external_id == event.external_id)
        )
        assert event_id is not None
        audit.record(uow, action="event.noted", entity_type="event", entity_id=event_id,
                     after={"title": event.title, "service": event.service})  # fmt: skip
        uow.commit()
        return int(event_id)
