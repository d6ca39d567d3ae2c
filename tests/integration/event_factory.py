"""Events written straight into the store, for timeline and correlation tests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select

from domain.base import utcnow
from domain.enums import EventSeverity, EventSource
from domain.models import Event
from services.ingest import store
from services.ingest.schema import EventIn, payload_hash
from services.uow import UnitOfWork


def event(
    source: EventSource,
    kind: str,
    at: datetime,
    service: str | None,
    title: str = "",
    severity: EventSeverity = EventSeverity.INFO,
    **data: Any,
) -> EventIn:
    external = f"test:{uuid.uuid4()}"
    return EventIn(
        source=source,
        type=kind,
        occurred_at=at,
        severity=severity,
        service=service,
        title=title or f"{kind} of {service}",
        data=data,
        external_id=external,
        payload_hash=payload_hash(external),
    )


def add_events(tenant_id: int, events: list[EventIn]) -> list[int]:
    """Store the events for a tenant; their ids in the order given."""
    with UnitOfWork(None) as uow:
        store.insert_events(uow.session, tenant_id=tenant_id, events=events, now=utcnow())
        ids = dict(
            uow.session.execute(
                select(Event.external_id, Event.id).where(
                    Event.external_id.in_([e.external_id for e in events])
                )
            ).all()
        )
        uow.commit()
    return [ids[e.external_id] for e in events]
