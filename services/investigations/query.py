"""Reading investigations: filtered search with keyset pages, the timeline, one event."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    and_,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB

from domain.enums import EventSource
from domain.models import Event, Investigation
from services import db
from services.actor import Actor
from services.errors import InvalidInput, NotFound
from services.investigations.dto import (
    EventRead,
    InvestigationFilter,
    InvestigationRead,
    TimelineWindow,
)
from services.pagination import Page, decode_cursor, encode_cursor
from services.perf import gc_paused
from services.permissions import Action, require
from services.uow import UnitOfWork

TIMELINE_LIMIT = 20_000
# Counting every match of a broad text search costs more than the page itself; past a thousand
# the list says "1,000+".
SEARCH_COUNT_CAP = 1_000
MAX_WINDOW = timedelta(days=31)
FTS_TABLE = "investigations_fts"  # SQLite: titles and descriptions by trigram


def _has_tag(tag: str) -> ColumnElement[bool]:
    if db.is_sqlite():
        each = func.json_each(Investigation.tags).table_valued("value")
        return exists(select(literal(1)).select_from(each).where(each.c.value == tag))
    return Investigation.tags.op("@>")(literal(json.dumps([tag])).cast(JSONB))


def _conditions(actor: Actor, f: InvestigationFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Investigation.tenant_id == actor.tenant_id]
    if f.text and f.text.strip():
        needle = f.text.strip().lower()
        if db.is_sqlite() and len(needle) >= 3:  # candidates from the trigram index (r12search16)
            phrase = '"' + needle.replace('"', '""') + '"'
            where.append(
                Investigation.id.in_(
                    select(literal_column("rowid"))
                    .select_from(text(FTS_TABLE))
                    .where(text(f"{FTS_TABLE} MATCH :inv_phrase").bindparams(inv_phrase=phrase))
                )
            )
        where.append(
            or_(
                func.lower(Investigation.title).contains(needle, autoescape=True),
                func.lower(Investigation.description).contains(needle, autoescape=True),
            )
        )
    if f.statuses:
        where.append(Investigation.status.in_(f.statuses))
    if f.severities:
        where.append(Investigation.severity.in_(f.severities))
    if f.service:
        where.append(Investigation.service == f.service)
    if f.tag and f.tag.strip():
        where.append(_has_tag(f.tag.strip().lower()))
    if f.assignee_id is not None:
        where.append(Investigation.assignee_id == f.assignee_id)
    if f.detected_from:
        where.append(Investigation.detected_at >= f.detected_from)
    if f.detected_to:
        where.append(Investigation.detected_at < f.detected_to)
    return where


def search(
    *,
    actor: Actor,
    filters: InvestigationFilter | None = None,
    cursor: str | None = None,
    limit: int = 25,
    with_total: bool = True,
) -> Page[InvestigationRead]:
    """Investigations matching the filters, newest detection first, one keyset page at a time."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    limit = max(1, min(limit, 200))
    where = _conditions(actor, filters or InvestigationFilter())
    page_where = list(where)
    if cursor:
        raw_at, raw_id = decode_cursor(cursor, arity=2)
        try:
            last = (datetime.fromisoformat(str(raw_at)), int(raw_id))
        except (TypeError, ValueError) as exc:
            raise InvalidInput("The page link is damaged; go back to the first page.") from exc
        page_where.append(
            or_(
                Investigation.detected_at < last[0],
                and_(Investigation.detected_at == last[0], Investigation.id < last[1]),
            )
        )
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.scalars(
            select(Investigation)
            .where(*page_where)
            .order_by(Investigation.detected_at.desc(), Investigation.id.desc())
            .limit(limit + 1)
        ).all()
        total = None
        if with_total:
            capped = select(Investigation.id).where(*where).limit(SEARCH_COUNT_CAP + 1).subquery()
            total = uow.session.scalar(select(func.count()).select_from(capped))
        items = [InvestigationRead.model_validate(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor([items[-1].detected_at.isoformat(), items[-1].id])
    return Page(
        items=items,
        next_cursor=next_cursor,
        total=min(total, SEARCH_COUNT_CAP) if total is not None else None,
        total_capped=total is not None and total > SEARCH_COUNT_CAP,
    )


def timeline(
    *,
    actor: Actor,
    start: datetime,
    end: datetime,
    services: list[str] | None = None,
    sources: list[EventSource] | None = None,
    limit: int = TIMELINE_LIMIT,
) -> TimelineWindow:
    """The events of a time range (optionally of some services and sources), oldest first."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("The timeline range needs times with a time zone.")
    if end <= start:
        raise InvalidInput("The end of the range must come after its start.")
    if end - start > MAX_WINDOW:
        raise InvalidInput("Pick a range of at most 31 days.")
    limit = max(1, min(limit, TIMELINE_LIMIT))
    where: list[ColumnElement[bool]] = [
        Event.tenant_id == actor.tenant_id,
        Event.occurred_at >= start,
        Event.occurred_at < end,
    ]
    if services:
        where.append(Event.service.in_(services))
    if sources:
        where.append(Event.source.in_(sources))
    # Core select with the enum and time columns read raw: the ORM and type processing would
    # cost more than the query itself for a 10,000-event window.
    t = Event.__table__.c
    stmt = (
        select(
            t.id,
            _epoch_ms(t.occurred_at),
            type_coerce(t.source, String),
            t.type,
            type_coerce(t.severity, String),
            t.service,
            t.title,
        )
        .where(*where)
        .order_by(t.occurred_at, t.id)
        .limit(limit + 1)
    )
    with gc_paused(), UnitOfWork(actor, readonly=True) as uow:
        rows: list[Any] = list(uow.session.connection().execute(stmt).all())
        truncated = len(rows) > limit
        columns: list[tuple[Any, ...]] = list(zip(*rows[:limit], strict=True)) if rows else [()] * 7
        del rows
        return TimelineWindow.model_construct(
            start=start,
            end=end,
            ids=list(columns[0]),
            occurred_ms=list(columns[1]),
            sources=list(columns[2]),
            types=list(columns[3]),
            severities=list(columns[4]),
            services=list(columns[5]),
            titles=list(columns[6]),
            truncated=truncated,
        )


def _epoch_ms(column: Any) -> ColumnElement[int]:
    """Milliseconds since the epoch, computed by the database (no per-row datetime in Python)."""
    if db.is_sqlite():
        # julianday() parses the stored UTC text in C; a double holds it to ~20 µs.
        return cast(func.round((func.julianday(column) - 2440587.5) * 86_400_000.0), BigInteger)
    return cast(func.round(func.extract("epoch", column) * 1000), BigInteger)


def get_event(*, actor: Actor, event_id: int) -> EventRead:
    """One event with its full payload."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    if not 0 < event_id < 2**63:  # beyond any id; PostgreSQL would refuse to compare it
        raise NotFound(f"There is no event #{event_id}.")
    with UnitOfWork(actor, readonly=True) as uow:
        row = uow.get(Event, event_id, missing=f"There is no event #{event_id}.")
        return EventRead.model_validate(row)
