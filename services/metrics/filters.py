"""The metrics filter: a date range, a time bucket and optional agent/model/prompt/run filters.

Every aggregate reads the same filter. Runs are bucketed by ``created_at``, LLM calls by their
``created_at``, review items by the ``created_at`` of the draft (a cohort: "drafts made in this
period, and what people did with them"). Start is inclusive, end exclusive.

Days are the tenant's: ``tz`` names its zone (services pin it from the tenant, see
``for_tenant``), day buckets start at local midnight and the page's ranges are whole local days
(services/metrics/days.py). Hour buckets stay UTC hours, which the page shows in local time
(the same hours in every zone with a whole-hour offset).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from sqlalchemy import ColumnElement, Float, case, cast, exists, func, literal_column, select, text
from sqlalchemy.orm import Session

from domain.enums import AgentName, RunStatus, RunTrigger
from domain.models import AgentRun, LLMCall, Tenant
from services import clock
from services.errors import InvalidInput
from services.metrics import days

Bucket = Literal["hour", "day"]
MAX_RANGE_DAYS = 400
MAX_HOURLY_RANGE_DAYS = 31
# A range of whole local days may hold the 25-hour day daylight saving time ends on.
_DST_SLACK = timedelta(hours=1)


class MetricsFilter(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    bucket: Bucket = "day"
    agent: AgentName | None = None
    model: str | None = None
    prompt_key: str | None = None
    prompt_version: int | None = None
    trigger: RunTrigger | None = None
    status: RunStatus | None = None
    tz: str = "UTC"  # the IANA zone whose days count; services pin the tenant's (for_tenant)

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        days.zone(value)
        return value

    @model_validator(mode="after")
    def _sane_range(self) -> MetricsFilter:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("the date range needs time-zone aware datetimes")
        if self.end <= self.start:
            raise ValueError("the end of the date range must be after its start")
        if self.end - self.start > timedelta(days=MAX_RANGE_DAYS) + _DST_SLACK:
            raise ValueError(f"the date range may span at most {MAX_RANGE_DAYS} days")
        hourly = timedelta(days=MAX_HOURLY_RANGE_DAYS) + _DST_SLACK
        if self.bucket == "hour" and self.end - self.start > hourly:
            raise ValueError(f"hourly buckets need a range of at most {MAX_HOURLY_RANGE_DAYS} days")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def previous(self) -> MetricsFilter:
        """The same filter over the period just before this one: as many local days when the
        period is whole local days (they may differ in length by DST), else as many hours."""
        tz = self.zone
        if days.is_midnight(self.start, tz) and days.is_midnight(self.end, tz):
            first = days.local_date(self.start, tz)
            count = (days.local_date(self.end, tz) - first).days
            start = days.midnight(first - timedelta(days=count), tz)
        else:
            start = self.start - (self.end - self.start)
        return self.model_copy(update={"start": start, "end": self.start})

    @property
    def utc_days(self) -> bool:
        """Whether this period's local days are UTC days (the daily rollups' keys)."""
        return days.utc_like(self.start, self.end, self.zone)

    @property
    def filters_runs_by_call(self) -> bool:
        return any(v is not None for v in (self.model, self.prompt_key, self.prompt_version))

    @property
    def filters_calls_by_run(self) -> bool:
        return any(v is not None for v in (self.agent, self.trigger, self.status))


def build_filter(**values: Any) -> MetricsFilter:
    """A MetricsFilter from loose input, or InvalidInput saying what is wrong with it."""
    try:
        return MetricsFilter(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "filter"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise InvalidInput(f"The metrics filter is not valid ({where}): {message}.") from exc


def calendar_days(
    count: int, *, now: datetime | None = None, tz: str = "UTC"
) -> tuple[datetime, datetime]:
    """The last ``count`` whole calendar days in zone ``tz``, today included, as UTC
    [start, end). The Run metrics page's default date range and the Home page's "last 30 days"
    are both this window."""
    return days.calendar_days(count, now=now or datetime.now(UTC), tz=days.zone(tz))


def day_range(first: date, last: date, *, tz: str) -> tuple[datetime, datetime]:
    """The calendar days ``first`` to ``last`` (dates, both included) in zone ``tz`` as UTC
    [start, end); InvalidInput for an unknown zone or a range that ends before it starts."""
    try:
        zone = days.zone(tz)
    except ValueError as exc:
        raise InvalidInput(f"The metrics filter is not valid (tz): {exc}.") from exc
    if last < first:
        raise InvalidInput("The metrics filter is not valid: the last day is before the first.")
    return days.span(first, last, zone)


def for_tenant(session: Session, tenant_id: int, f: MetricsFilter) -> MetricsFilter:
    """The filter in the tenant's time zone, whatever zone it came with."""
    name = clock.zone_name(session.get(Tenant, tenant_id))
    return f if f.tz == name else f.model_copy(update={"tz": name})


def last_days(days: int, *, now: datetime | None = None, **values: Any) -> MetricsFilter:
    """A filter over the last ``days`` whole days up to the end of the current hour."""
    moment = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    end = moment + timedelta(hours=1)
    return build_filter(start=end - timedelta(days=days), end=end, **values)


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def tune(session: Session) -> None:
    """Settings for this read transaction: no JIT on PostgreSQL (compiling the dashboard's
    plans costs more than running them)."""
    if dialect(session) == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def bucket_key(
    session: Session, column: Any, f: MetricsFilter, bucket: Bucket
) -> ColumnElement[str]:
    """A sortable text key of the local day (in ``f``'s zone) or the UTC hour a timestamp in
    ``f``'s range falls in: the day of the timestamp moved by the UTC offset in force then."""
    sqlite = dialect(session) == "sqlite"
    if bucket == "hour":
        return _key(sqlite, _shifted(sqlite, column, 0), "hour")
    segments = days.offsets(f.start, f.end, f.zone)
    if len(segments) == 1:
        return _key(sqlite, _shifted(sqlite, column, segments[0][1]), "day")
    whens = [
        (column < _moment(sqlite, since), _shifted(sqlite, column, offset))
        for (_, offset), (since, _) in pairwise(segments)
    ]
    local = case(*whens, else_=_shifted(sqlite, column, segments[-1][1]))
    return _key(sqlite, local, "day")


def _key(sqlite: bool, value: Any, bucket: Bucket) -> ColumnElement[str]:
    if sqlite:
        # SQLite stores UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff'.
        return func.substr(value, 1, literal_column("10" if bucket == "day" else "13"))
    # Literal SQL, not bound parameters: PostgreSQL must see GROUP BY and SELECT as equal.
    pattern: ColumnElement[str] = literal_column(
        "'YYYY-MM-DD'" if bucket == "day" else "'YYYY-MM-DD HH24'"
    )
    return func.to_char(value, pattern)


def _shifted(sqlite: bool, column: Any, offset: int) -> Any:
    """The timestamp as wall-clock time at ``offset`` seconds from UTC (timezone-less)."""
    if sqlite:
        return (
            column
            if offset == 0
            else func.datetime(column, literal_column(f"'{offset:+d} seconds'"))
        )
    utc = func.timezone(literal_column("'UTC'"), column)
    return utc if offset == 0 else utc + literal_column(f"interval '{offset:d} seconds'")


def _moment(sqlite: bool, moment: datetime) -> ColumnElement[Any]:
    """A UTC instant as literal SQL comparable with a stored timestamp."""
    utc = moment.astimezone(UTC)
    if sqlite:
        return literal_column(f"'{utc:%Y-%m-%d %H:%M:%S.%f}'")
    return literal_column(f"TIMESTAMPTZ '{utc:%Y-%m-%d %H:%M:%S.%f}+00'")


def parse_bucket(key: str, f: MetricsFilter, bucket: Bucket) -> datetime:
    """The start of the bucket a key from ``bucket_key`` names, in ``f``'s zone."""
    if bucket == "day":
        day = datetime.strptime(key, "%Y-%m-%d").date()
        return days.midnight(day, f.zone).astimezone(f.zone)
    return datetime.strptime(key, "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(f.zone)


def seconds_between(session: Session, start: Any, end: Any) -> ColumnElement[float]:
    """``end - start`` in seconds, on either engine."""
    if dialect(session) == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return cast(func.extract("epoch", end - start), Float)


def call_matches(f: MetricsFilter) -> list[ColumnElement[bool]]:
    """Conditions on LLMCall columns for the model and prompt filters."""
    where: list[ColumnElement[bool]] = []
    if f.model is not None:
        where.append(LLMCall.model == f.model)
    if f.prompt_key is not None:
        where.append(LLMCall.prompt_key == f.prompt_key)
    if f.prompt_version is not None:
        where.append(LLMCall.prompt_version == f.prompt_version)
    return where


def run_matches(f: MetricsFilter) -> list[ColumnElement[bool]]:
    """Conditions on AgentRun columns for the agent, trigger and status filters."""
    where: list[ColumnElement[bool]] = []
    if f.agent is not None:
        where.append(AgentRun.agent == f.agent)
    if f.trigger is not None:
        where.append(AgentRun.trigger == f.trigger)
    if f.status is not None:
        where.append(AgentRun.status == f.status)
    return where


def run_where(tenant_id: int, f: MetricsFilter) -> list[ColumnElement[bool]]:
    """Every condition on AgentRun rows: tenant, range, run filters, and call filters via EXISTS."""
    where = [
        AgentRun.tenant_id == tenant_id,
        AgentRun.created_at >= f.start,
        AgentRun.created_at < f.end,
        *run_matches(f),
    ]
    if f.filters_runs_by_call:
        where.append(
            exists(
                select(LLMCall.id).where(
                    LLMCall.run_id == AgentRun.id,
                    LLMCall.tenant_id == tenant_id,
                    *call_matches(f),
                )
            )
        )
    return where


def call_where(tenant_id: int, f: MetricsFilter) -> list[ColumnElement[bool]]:
    """Every condition on LLMCall rows; run filters need a join to AgentRun (see call_source)."""
    return [
        LLMCall.tenant_id == tenant_id,
        LLMCall.created_at >= f.start,
        LLMCall.created_at < f.end,
        *call_matches(f),
        *run_matches(f),
    ]


def call_source(f: MetricsFilter) -> Any:
    """LLMCall, joined to its run only when a run filter needs it."""
    if f.filters_calls_by_run:
        return LLMCall.__table__.join(AgentRun.__table__, AgentRun.id == LLMCall.run_id)
    return LLMCall.__table__
