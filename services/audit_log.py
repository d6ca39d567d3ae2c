"""The audit log as a person reads it: filtered, paged (newest first), diffed and exported."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Select, String, cast, func, or_, select

from domain.models import AuditEntry, User
from services.actor import Actor
from services.audit import AuditEntryRead
from services.errors import InvalidInput
from services.pagination import COUNT_CAP, Page, decode_cursor, encode_cursor
from services.permissions import Action, require
from services.spreadsheet import neutralise
from services.uow import UnitOfWork

EXPORT_CAP = 10_000
_MAX_TEXT = 200


class AuditFilter(BaseModel):
    """What to show: every field optional; times are aware and ``since <= until``."""

    actor_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    action: str | None = Field(default=None, max_length=100)
    entity_type: str | None = Field(default=None, max_length=64)
    entity_id: int | None = Field(default=None, ge=0, le=2**63 - 1)
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = Field(default=None, max_length=_MAX_TEXT)

    @field_validator("action", "entity_type", "text")
    @classmethod
    def _clean(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value.strip() or None

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> AuditFilter:
        if self.since and self.until and self.since > self.until:
            raise ValueError("the start of the time range is after its end")
        return self


class DiffLine(BaseModel):
    field: str
    before: str | None
    after: str | None


class AuditFacets(BaseModel):
    actors: list[tuple[int, str]]
    actions: list[str]
    entity_types: list[str]


def parse_filter(**values: Any) -> AuditFilter:
    """An AuditFilter from loose input, or InvalidInput naming the bad field."""
    try:
        return AuditFilter(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "filter"
        raise InvalidInput(f"Audit filter {where}: {first['msg']}") from exc


def _filtered(f: AuditFilter) -> Select[Any]:
    query = select(AuditEntry)
    if f.actor_id is not None:
        query = query.where(AuditEntry.actor_id == f.actor_id)
    if f.action:
        query = query.where(AuditEntry.action == f.action)
    if f.entity_type:
        query = query.where(AuditEntry.entity_type == f.entity_type)
    if f.entity_id is not None:
        query = query.where(AuditEntry.entity_id == f.entity_id)
    if f.since:
        query = query.where(AuditEntry.created_at >= f.since)
    if f.until:
        query = query.where(AuditEntry.created_at <= f.until)
    if f.text:
        needle = f.text.lower()
        columns = [
            AuditEntry.action,
            AuditEntry.actor_label,
            AuditEntry.entity_type,
            AuditEntry.reason,
            cast(AuditEntry.before, String),
            cast(AuditEntry.after, String),
        ]
        query = query.where(
            or_(*(func.lower(c).contains(needle, autoescape=True) for c in columns))
        )
    return query


def search(
    *, actor: Actor, filter_in: AuditFilter, cursor: str | None = None, limit: int = 50
) -> Page[AuditEntryRead]:
    """One page of the tenant's audit log matching the filter, newest first."""
    require(actor, Action.VIEW_AUDIT_LOG)
    limit = max(1, min(limit, 200))
    query = _filtered(filter_in)
    with UnitOfWork(actor, readonly=True) as uow:
        total = uow.session.scalar(
            select(func.count()).select_from(query.limit(COUNT_CAP + 1).subquery())
        )
        if cursor:
            (last_id,) = decode_cursor(cursor, arity=1)
            if not isinstance(last_id, int):
                raise InvalidInput("The page link is damaged; go back to the first page.")
            query = query.where(AuditEntry.id < last_id)
        rows = uow.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)).all()
        items = [AuditEntryRead.model_validate(r) for r in rows[:limit]]
    capped = (total or 0) > COUNT_CAP
    return Page(
        items=items,
        next_cursor=encode_cursor([items[-1].id]) if len(rows) > limit else None,
        total=min(total or 0, COUNT_CAP),
        total_capped=capped,
    )


def facets(*, actor: Actor) -> AuditFacets:
    """The actors, actions and entity types that occur in the tenant's audit (for the filters)."""
    require(actor, Action.VIEW_AUDIT_LOG)
    with UnitOfWork(actor, readonly=True) as uow:
        actions = uow.session.scalars(select(AuditEntry.action).distinct().limit(500)).all()
        types = uow.session.scalars(select(AuditEntry.entity_type).distinct().limit(500)).all()
        users = uow.session.execute(
            select(User.id, User.display_name).order_by(User.display_name).limit(1000)
        ).all()
    return AuditFacets(
        actors=[(int(u.id), str(u.display_name)) for u in users],
        actions=sorted(actions),
        entity_types=sorted(types),
    )


def _show(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def diff(entry: AuditEntryRead) -> list[DiffLine]:
    """Field by field, what the entry changed (a field only in before or after shows as such)."""
    before, after = entry.before or {}, entry.after or {}
    fields = list(dict.fromkeys([*before, *after]))
    return [
        DiffLine(field=k, before=_show(before.get(k)), after=_show(after.get(k)))
        for k in fields
        if before.get(k) != after.get(k) or k not in before or k not in after
    ]


def export_csv(*, actor: Actor, filter_in: AuditFilter) -> str:
    """The matching entries (up to 10,000, newest first) as formula-safe CSV text."""
    require(actor, Action.VIEW_AUDIT_LOG)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.scalars(
            _filtered(filter_in).order_by(AuditEntry.id.desc()).limit(EXPORT_CAP)
        ).all()
        entries = [AuditEntryRead.model_validate(r) for r in rows]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["entry", "time", "actor", "action", "entity", "entity_id", "reason", "before", "after"]
    )
    for e in entries:
        cells: list[Any] = [
            e.seq,
            e.created_at.isoformat(),
            e.actor_label,
            e.action,
            e.entity_type,
            e.entity_id if e.entity_id is not None else "",
            e.reason or "",
            _show(e.before) or "",
            _show(e.after) or "",
        ]
        writer.writerow([neutralise(c) if isinstance(c, str) else c for c in cells])
    return out.getvalue()
