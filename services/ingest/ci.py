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

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.enums import EventSeverity, EventSource
from services.ingest.records import json_records
from services.ingest.schema import (
    EventIn,
    ParseResult,
    TimestampError,
    clip,
    describe,
    parse_ts,
    payload_hash,
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
    """Events from a JUnit XML report or a file of build/deploy records."""
    if data.lstrip()[:1] == b"<":
        return parse_junit(data, now=now, skew=skew, service=service)
    return parse_records(data, now=now, skew=skew, max_line=max_line)


def parse_records(data: bytes, *, now: datetime, skew: timedelta, max_line: int) -> ParseResult:
    """Build and deploy events from JSON records."""
    result = ParseResult()
    for position, raw, value in json_records(data, max_line=max_line, result=result):
        text = raw.decode("utf-8", "replace")
        if not isinstance(value, dict):
            result.reject(position, "a build/deploy record must be a JSON object", text)
            continue
        service = value.get("service") if isinstance(value.get("service"), str) else None
        try:
            rec = BuildRecord.model_validate(value)
            started = parse_ts(rec.started_at, now=now, skew=skew, name="started_at")
            finished = (
                parse_ts(rec.finished_at, now=now, skew=skew, name="finished_at")
                if rec.finished_at
                else None
            )
        except ValidationError as exc:
            result.reject(position, describe(exc), text, service)
            continue
        except TimestampError as exc:
            result.reject(position, str(exc), text, service)
            continue
        if finished and finished < started:
            result.reject(position, "finished_at lies before started_at", text, service)
            continue
        failed = rec.status == "failed"
        severity = EventSeverity.INFO
        if failed:
            severity = EventSeverity.HIGH if rec.kind == "deploy" else EventSeverity.MEDIUM
        elif rec.kind == "deploy":
            severity = EventSeverity.LOW
        where = f" to {rec.environment}" if rec.environment else ""
        result.events.append(
            EventIn(
                source=EventSource.CI,
                type=rec.kind,
                occurred_at=finished or started,
                severity=severity,
                service=rec.service,
                title=f"{rec.kind.capitalize()} {rec.id} of {rec.service}{where} {rec.status}",
                data=rec.model_dump(),
                external_id=f"{rec.kind}:{rec.id}",
                payload_hash=payload_hash(raw),
            )
        )
    return result


def parse_junit(
    data: bytes, *, now: datetime, skew: timedelta, service: str | None = None
) -> ParseResult:
    """A test-run event per suite and a failure event per failed test case."""
    result = ParseResult()
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        result.records += 1
        result.reject(
            f"line {line}, column {column}",
            f"not well-formed XML: {exc}",
            data.decode("utf-8", "backslashreplace"),
        )
        return result
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    if root.tag not in {"testsuite", "testsuites"}:
        result.records += 1
        result.reject("root", f"expected <testsuites> or <testsuite>, found <{root.tag}>", "")
        return result
    for index, suite in enumerate(suites, 1):
        result.records += 1
        name = suite.get("name") or f"suite {index}"
        raw = ET.tostring(suite, encoding="unicode")
        position = f"testsuite {index} ({name[:60]})"
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        suite_service = props.get("service") or service
        try:
            at = parse_ts(suite.get("timestamp"), now=now, skew=skew, name="timestamp")
        except TimestampError as exc:
            result.reject(position, str(exc), clip(raw), suite_service)
            continue
        cases = list(suite.iter("testcase"))
        failed = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
        digest = payload_hash(raw)
        result.events.append(
            EventIn(
                source=EventSource.CI,
                type="test_run",
                occurred_at=at,
                severity=EventSeverity.MEDIUM if failed else EventSeverity.INFO,
                service=suite_service,
                title=f"Tests {name}: {len(failed)} of {len(cases)} failed",
                data={"suite": name, "tests": len(cases), "failed": len(failed), "props": props},
                external_id=f"junit:{name}:{at.isoformat()}",
                payload_hash=digest,
            )
        )
        for case in failed:
            problem = case.find("failure")
            problem = problem if problem is not None else case.find("error")
            assert problem is not None
            test = f"{case.get('classname', '')}.{case.get('name', '')}".strip(".")
            message = problem.get("message") or (problem.text or "").strip()[:300]
            case_raw = ET.tostring(case, encoding="unicode")
            result.events.append(
                EventIn(
                    source=EventSource.CI,
                    type="test_failure",
                    occurred_at=at,
                    severity=EventSeverity.MEDIUM,
                    service=suite_service,
                    title=f"Test failed: {test}" + (f" — {message}" if message else ""),
                    data={"suite": name, "test": test, "message": message, "kind": problem.tag},
                    external_id=f"junit:{name}:{at.isoformat()}:{test}",
                    payload_hash=payload_hash(case_raw),
                )
            )
    return result
