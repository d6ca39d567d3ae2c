"""Cron schedules for agents, per tenant: create, change, list, and the cron arithmetic.

Occurrences are computed in the schedule's own time zone (so "weekdays 07:00 Europe/Berlin"
stays at 07:00 across daylight-saving changes) and stored in UTC. Workers fire them
(services/schedule_firing.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadCronError, croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from domain.enums import AgentName
from domain.models import Schedule, ScheduleFiring
from services import audit
from services.actor import Actor
from services.errors import Conflict, InvalidInput
from services.permissions import Action, require, require_agent
from services.uow import UnitOfWork

AUDITED = ["name", "agent", "cron", "timezone", "selection", "enabled", "next_fire_at"]


class ScheduleSelection(BaseModel):
    """Which subjects each occurrence runs on (what a field means depends on the agent)."""

    model_config = ConfigDict(extra="forbid")

    overdue_days: int = Field(default=0, ge=0, le=3650)  # finance: invoices due this long ago
    status: str | None = Field(default=None, max_length=32)  # lead status / deal stage
    limit: int = Field(default=50, ge=1, le=500)


class ScheduleCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    agent: AgentName
    cron: str = Field(min_length=1, max_length=100)
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    selection: ScheduleSelection = Field(default_factory=ScheduleSelection)
    enabled: bool = True


class ScheduleUpdate(BaseModel):
    cron: str = Field(min_length=1, max_length=100)
    timezone: str = Field(min_length=1, max_length=64)
    selection: ScheduleSelection
    enabled: bool


class ScheduleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    agent: AgentName
    cron: str
    timezone: str
    selection: dict[str, Any]
    enabled: bool
    next_fire_at: datetime | None
    last_fired_at: datetime | None
    last_occurrence_at: datetime | None
    created_by_id: int | None
    row_version: int


class FiringRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    schedule_id: int
    occurrence_at: datetime
    skipped: int
    runs_enqueued: int
    worker_id: str
    created_at: datetime


def build(model: type[BaseModel], **values: Any) -> Any:
    """A ScheduleCreate/ScheduleUpdate from loose input, or InvalidInput naming the field."""
    try:
        return model(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "schedule"
        raise InvalidInput(f"The schedule is not valid ({where}): {first['msg']}.") from exc


def zone(name: str) -> ZoneInfo:
    """The IANA time zone by name; InvalidInput for anything else."""
    if "\x00" in name or name not in available_timezones():
        raise InvalidInput(f"{name[:64]!r} is not an IANA time zone such as Europe/Berlin.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"{name[:64]!r} is not a time zone this system knows.") from exc


def check_cron(cron: str) -> str:
    """A five-field cron expression, normalised; InvalidInput says what is wrong."""
    text = " ".join(cron.split())
    if len(text.split(" ")) != 5:
        raise InvalidInput(
            "A schedule needs a five-field cron expression (minute hour day month weekday), "
            "e.g. '0 7 * * 1-5'."
        )
    try:
        croniter(text, datetime(2026, 1, 1, tzinfo=UTC)).get_next(datetime)
    except (CroniterBadCronError, ValueError, KeyError, OverflowError) as exc:
        raise InvalidInput(f"{text!r} is not a valid cron expression: {exc}.") from exc
    return text


def next_after(cron: str, tz: str, after: datetime) -> datetime:
    """The first occurrence strictly after ``after``, in UTC."""
    start = after.astimezone(zone(tz))
    value: datetime = croniter(cron, start).get_next(datetime)
    return value.astimezone(UTC)


def latest_until(cron: str, tz: str, until: datetime) -> datetime:
    """The last occurrence at or before ``until``, in UTC."""
    start = (until + timedelta(seconds=1)).astimezone(zone(tz))
    value: datetime = croniter(cron, start).get_prev(datetime)
    return value.astimezone(UTC)


def _get(uow: UnitOfWork, schedule_id: int, expected_version: int | None) -> Schedule:
    row = uow.get(Schedule, schedule_id, missing=f"Schedule #{schedule_id} does not exist.")
    if expected_version is not None and row.row_version != expected_version:
        raise Conflict(f"Schedule {row.name!r} changed since you loaded it. Reload and retry.")
    return row


def create_schedule(*, actor: Actor, schedule_in: ScheduleCreate, now: datetime) -> ScheduleRead:
    """Add a schedule; its first occurrence is the first one after ``now``."""
    require(actor, Action.MANAGE_SCHEDULES)
    require_agent(actor, schedule_in.agent)
    cron = check_cron(schedule_in.cron)
    zone(schedule_in.timezone)
    with UnitOfWork(actor) as uow:
        taken = uow.session.scalar(select(Schedule.id).where(Schedule.name == schedule_in.name))
        if taken is not None:
            raise Conflict(f"There is already a schedule named {schedule_in.name!r}.")
        row = Schedule(
            tenant_id=actor.tenant_id,
            name=schedule_in.name,
            agent=schedule_in.agent,
            cron=cron,
            timezone=schedule_in.timezone,
            selection=schedule_in.selection.model_dump(),
            enabled=schedule_in.enabled,
            next_fire_at=next_after(cron, schedule_in.timezone, now),
            created_by_id=actor.user_id,
        )
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow,
            action="schedule.created",
            entity_type="schedule",
            entity_id=row.id,
            after=audit.snapshot(row, AUDITED),
        )
        uow.commit()
        return ScheduleRead.model_validate(row)


def update_schedule(
    *,
    actor: Actor,
    schedule_id: int,
    schedule_in: ScheduleUpdate,
    expected_version: int,
    now: datetime,
) -> ScheduleRead:
    """Change a schedule's cron, time zone, selection or state; occurrences restart after now."""
    require(actor, Action.MANAGE_SCHEDULES)
    cron = check_cron(schedule_in.cron)
    zone(schedule_in.timezone)
    with UnitOfWork(actor) as uow:
        row = _get(uow, schedule_id, expected_version)
        require_agent(actor, row.agent)
        before = audit.snapshot(row, AUDITED)
        row.cron, row.timezone, row.enabled = cron, schedule_in.timezone, schedule_in.enabled
        row.selection = schedule_in.selection.model_dump()
        row.next_fire_at = next_after(cron, row.timezone, now)
        uow.session.flush()
        audit.record(
            uow,
            action="schedule.updated",
            entity_type="schedule",
            entity_id=row.id,
            before=before,
            after=audit.snapshot(row, AUDITED),
        )
        uow.commit()
        return ScheduleRead.model_validate(row)


def list_schedules(*, actor: Actor) -> list[ScheduleRead]:
    """The tenant's schedules by name."""
    require(actor, Action.MANAGE_SCHEDULES)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.scalars(select(Schedule).order_by(Schedule.name))
        return [ScheduleRead.model_validate(r) for r in rows]


def list_firings(*, actor: Actor, schedule_id: int, limit: int = 20) -> list[FiringRead]:
    """A schedule's latest fired occurrences, newest first."""
    require(actor, Action.MANAGE_SCHEDULES)
    with UnitOfWork(actor, readonly=True) as uow:
        _get(uow, schedule_id, None)
        rows = uow.session.scalars(
            select(ScheduleFiring)
            .where(ScheduleFiring.schedule_id == schedule_id)
            .order_by(ScheduleFiring.occurrence_at.desc())
            .limit(max(1, min(limit, 200)))
        )
        return [FiringRead.model_validate(r) for r in rows]
