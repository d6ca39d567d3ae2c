"""CI connector: JUnit XML test reports, and JSON build/deploy records.

Build/deploy record format (JSON lines, or one JSON array), one object per build or deploy:

    {"kind": "deploy",                      # "build" or "deploy"
     "id": "deploy-4711",                   # unique per kind
     "status": "succeeded",                 # succeeded | failed | cancelled | running
     "service": "checkout",
     "environment": "production",           # required for deploys
     "commit_sha": "3f2a…",                 # optional
     "started_at": "2026-11-20T10:00:00Z",  # ISO-8601 with zone
     "finished_at": "2026-11-20T10:04:12Z", # optional; the event's time when present
     "url": "https://ci.example/…"}         # optional

JUnit: each ``<testsuite>`` (with a ``timestamp`` carrying a zone) gives one test-run event and
one event per failed or errored test case. The suite's service is its ``service`` property, or
the service given with the upload.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.enums import EventSeverity, EventSource
from services.ingest import junit
from services.ingest.records import first_byte, json_records
from services.ingest.schema import (
    EventIn,
    ParseResult,
    Sink,
    TimestampError,
    describe,
    parse_ts,
    payload_hash,
    unexpected,
)


class BuildRecord(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    kind: Literal["build", "deploy"]
    id: str = Field(min_length=1, max_length=200)
    status: Literal["succeeded", "failed", "cancelled", "running"]
    service: str = Field(min_length=1, max_length=100)
    environment: str | None = Field(default=None, max_length=100)
    commit_sha: str | None = Field(default=None, max_length=64)
    started_at: str
    finished_at: str | None = None
    url: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _deploys_name_an_environment(self) -> BuildRecord:
        if self.kind == "deploy" and not self.environment:
            raise ValueError("a deploy record needs an environment")
        return self


def parse(
    data: bytes, *, now: datetime, skew: timedelta, max_line: int, service: str | None = None
) -> ParseResult:
    """Events from a JUnit XML report's or a build/deploy record file's bytes."""
    result = ParseResult()
    read(io.BytesIO(data), result, now=now, skew=skew, max_line=max_line, service=service)
    return result


def read(
    stream: IO[bytes],
    out: Sink,
    *,
    now: datetime,
    skew: timedelta,
    max_line: int,
    service: str | None = None,
) -> None:
    """Events from a JUnit XML report or a file of build/deploy records, streamed."""
    if first_byte(stream) == b"<":
        junit.read(stream, out, now=now, skew=skew, service=service)
        return
    for position, text, value, problems in json_records(stream, max_line=max_line, out=out):
        try:
            _record(out, position, text, value, problems, now=now, skew=skew)
        except Exception as exc:
            out.reject(position, unexpected(exc), text)


def _record(
    out: Sink,
    position: str,
    text: str,
    value: Any,
    problems: list[str],
    *,
    now: datetime,
    skew: timedelta,
) -> None:
    if not isinstance(value, dict):
        out.reject(position, "a build/deploy record must be a JSON object", text)
        return
    service = value.get("service") if isinstance(value.get("service"), str) else None
    problems = list(problems)
    rec: BuildRecord | None = None
    try:
        rec = BuildRecord.model_validate(value)
    except ValidationError as exc:
        problems.append(describe(exc))
    times: dict[str, datetime] = {}
    for name in ("started_at", "finished_at"):
        if isinstance(value.get(name), str):
            try:
                times[name] = parse_ts(value[name], now=now, skew=skew, name=name)
            except TimestampError as exc:
                problems.append(str(exc))
    started, finished = times.get("started_at"), times.get("finished_at")
    if started and finished and finished < started:
        problems.append("finished_at lies before started_at")
    if problems or rec is None or started is None:
        out.reject(position, "; ".join(problems) or "the record cannot be read", text, service)
        return
    failed = rec.status == "failed"
    severity = EventSeverity.INFO
    if failed:
        severity = EventSeverity.HIGH if rec.kind == "deploy" else EventSeverity.MEDIUM
    elif rec.kind == "deploy":
        severity = EventSeverity.LOW
    where = f" to {rec.environment}" if rec.environment else ""
    out.event(
        EventIn(
            source=EventSource.CI,
            type=rec.kind,
            occurred_at=finished or started,
            severity=severity,
            service=rec.service,
            title=f"{rec.kind.capitalize()} {rec.id} of {rec.service}{where} {rec.status}",
            data=rec.model_dump(),
            external_id=f"{rec.kind}:{rec.id}",
            payload_hash=payload_hash(text),
        ),
        position=position,
        raw=text,
    )
