"""What the investigation services take and return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from domain.enums import EventSeverity, EventSource, InvestigationStatus, Priority, Severity

__all__ = [
    "EventRead",
    "EventSeverity",
    "EventSource",
    "InvestigationCreate",
    "InvestigationFilter",
    "InvestigationRead",
    "InvestigationStatus",
    "InvestigationUpdate",
    "NoteRead",
    "Priority",
    "Severity",
    "TimelineWindow",
]
MAX_TAGS = 20


def clean_tags(tags: list[str]) -> list[str]:
    """Tags lower-cased, trimmed, without blanks or repeats, in the order given."""
    seen: list[str] = []
    for tag in tags:
        value = tag.strip().lower()
        if value and value not in seen:
            seen.append(value[:40])
    if len(seen) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    return seen


class InvestigationCreate(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20_000)
    severity: Severity
    priority: Priority = Priority.P2
    detected_at: AwareDatetime | None = None
    started_at: AwareDatetime | None = None
    service: str | None = Field(default=None, max_length=100)
    component: str | None = Field(default=None, max_length=100)
    tags: list[str] = Field(default_factory=list)
    assignee_id: int | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return clean_tags(value)


class InvestigationUpdate(BaseModel):
    """Only the fields that are set change; ``version`` is the version the person saw."""

    version: int
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    severity: Severity | None = None
    priority: Priority | None = None
    detected_at: AwareDatetime | None = None
    started_at: AwareDatetime | None = None
    root_cause: str | None = Field(default=None, max_length=20_000)
    remediation: str | None = Field(default=None, max_length=20_000)
    lessons_learned: str | None = Field(default=None, max_length=20_000)
    service: str | None = Field(default=None, max_length=100)
    component: str | None = Field(default=None, max_length=100)
    tags: list[str] | None = None
    assignee_id: int | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else clean_tags(value)


class InvestigationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    severity: Severity
    status: InvestigationStatus
    priority: Priority
    detected_at: datetime
    started_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    root_cause: str | None
    remediation: str | None
    lessons_learned: str | None
    service: str | None
    component: str | None
    tags: list[str]
    assignee_id: int | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime | None
    row_version: int


class InvestigationFilter(BaseModel):
    text: str | None = Field(default=None, max_length=200)
    statuses: list[InvestigationStatus] = Field(default_factory=list)
    severities: list[Severity] = Field(default_factory=list)
    service: str | None = None
    tag: str | None = None
    assignee_id: int | None = None
    detected_from: AwareDatetime | None = None
    detected_to: AwareDatetime | None = None


class NoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    investigation_id: int
    author_id: int | None
    author_label: str
    body: str
    corrects_note_id: int | None
    created_at: datetime


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: EventSource
    type: str
    occurred_at: datetime
    ingested_at: datetime
    severity: EventSeverity
    service: str | None
    title: str
    data: dict[str, Any]
    payload_hash: str
    external_id: str


class TimelineWindow(BaseModel):
    """Events of a time range as columns (cheap to build, ready for a chart and a table)."""

    start: datetime
    end: datetime
    ids: list[int]
    occurred_ms: list[int]  # milliseconds since the epoch, UTC
    sources: list[str]
    types: list[str]
    severities: list[str]
    services: list[str | None]
    titles: list[str]
    truncated: bool
