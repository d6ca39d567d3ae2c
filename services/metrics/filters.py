"""The metrics filter: a date range, a time bucket and optional agent/model/prompt/run filters.

Every aggregate reads the same filter. Runs are bucketed by ``created_at``, LLM calls by their
``created_at``, review items by the ``created_at`` of the draft (a cohort: "drafts made in this
period, and what people did with them"). Start is inclusive, end exclusive.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from sqlalchemy import ColumnElement, Float, cast, exists, func, literal_column, select, text
from sqlalchemy.orm import Session

from domain.enums import AgentName, RunStatus, RunTrigger
from domain.models import AgentRun, LLMCall
from services.errors import InvalidInput

Bucket = Literal["hour", "day"]
MAX_RANGE_DAYS = 400
MAX_HOURLY_RANGE_DAYS = 31


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

    @model_validator(mode="after")
    def _sane_range(self) -> MetricsFilter:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("the date range needs time-zone aware datetimes")
        if self.end <= self.start:
            raise ValueError("the end of the date range must be after its start")
        if self.end - self.start > timedelta(days=MAX_RANGE_DAYS):
            raise ValueError(f"the date range may span at most {MAX_RANGE_DAYS} days")
        if self.bucket == "hour" and self.end - self.start > timedelta(days=MAX_HOURLY_RANGE_DAYS):
            raise ValueError(f"hourly buckets need a range of at most {MAX_HOURLY_RANGE_DAYS} days")
        return self

    def previous(self) -> MetricsFilter:
        """The same filter over the period of equal length just before this one."""
        span = self.end - self.start
        return self.model_copy(update={"start": self.start - span, "end": self.start})

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


def calendar_days(days: int, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last ``days`` whole UTC calendar days, today included: [start, end). The Run metrics
    page's default date range and the Home page's "last 30 days" are both this window."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    start = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=UTC)
    return start, datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC)


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


def bucket_key(session: Session, column: Any, bucket: Bucket) -> ColumnElement[str]:
    """A sortable text key of the UTC hour or day a timestamp falls in."""
    if dialect(session) == "sqlite":
        # SQLite stores UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff'.
        return func.substr(column, 1, literal_column("10" if bucket == "day" else "13"))
    # Literal SQL, not bound parameters: PostgreSQL must see GROUP BY and SELECT as equal.
    pattern: ColumnElement[str] = literal_column(
        "'YYYY-MM-DD'" if bucket == "day" else "'YYYY-MM-DD HH24'"
    )
    return func.to_char(func.timezone(literal_column("'UTC'"), column), pattern)


def parse_bucket(key: str, bucket: Bucket) -> datetime:
    """The start of the bucket a key from ``bucket_key`` names."""
    fmt = "%Y-%m-%d" if bucket == "day" else "%Y-%m-%d %H"
    return datetime.strptime(key, fmt).replace(tzinfo=UTC)


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
