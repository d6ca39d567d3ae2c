"""JUnit XML, read with iterparse: one ``<testsuite>`` in memory at a time.

Each suite (with a ``timestamp`` carrying a zone) gives one test-run event and one event per
failed or errored test case. The suite's service is its ``service`` property, or the service
given with the upload. A suite nested deeper than MAX_DEPTH or holding more than MAX_ELEMENTS
elements is quarantined and its elements dropped as they are read, so a hostile report costs
neither the stack nor the memory; a report that stops being well-formed keeps the suites read
before the break.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import IO

from domain.enums import EventSeverity, EventSource
from services.ingest.schema import (
    EventIn,
    Sink,
    TimestampError,
    clip,
    parse_ts,
    payload_hash,
    unexpected,
)

MAX_DEPTH = 64
MAX_ELEMENTS = 200_000
ROOTS = {"testsuites", "testsuite"}


def read(
    stream: IO[bytes], out: Sink, *, now: datetime, skew: timedelta, service: str | None
) -> None:
    """A test-run event per suite and a failure event per failed test case."""
    stack: list[ET.Element] = []
    suite: ET.Element | None = None
    problem: str | None = None
    elements = index = base = 0
    try:
        for kind, elem in ET.iterparse(stream, events=("start", "end")):
            if kind == "start":
                stack.append(elem)
                if len(stack) == 1 and elem.tag not in ROOTS:
                    out.records += 1
                    out.reject(
                        "root", f"expected <testsuites> or <testsuite>, found <{elem.tag[:60]}>", ""
                    )
                    return
                if suite is None and elem.tag == "testsuite":
                    suite, problem, elements, base = elem, None, 0, len(stack)
                elif suite is not None:
                    elements += 1
                    if problem is None and len(stack) - base > MAX_DEPTH:
                        problem = f"the suite is nested more than {MAX_DEPTH} elements deep"
                    elif problem is None and elements > MAX_ELEMENTS:
                        problem = f"the suite has more than {MAX_ELEMENTS:,} elements"
                continue
            stack.pop()
            if suite is not None and elem is suite:
                index += 1
                _suite(out, suite, index, problem, now=now, skew=skew, service=service)
                suite = None
            elif suite is not None and problem is None:
                continue  # part of a suite still being read
            if stack:  # done with it: drop it from its parent
                elem.clear()
                stack[-1].remove(elem)
    except ET.ParseError as exc:
        line, column = exc.position
        out.records += 1
        out.reject(
            f"line {line}, column {column}",
            f"not well-formed XML: {exc}; the rest of the report was not read",
            "",
        )


def _suite(
    out: Sink,
    suite: ET.Element,
    index: int,
    problem: str | None,
    *,
    now: datetime,
    skew: timedelta,
    service: str | None,
) -> None:
    out.records += 1
    name = suite.get("name") or f"suite {index}"
    position = f"testsuite {index} ({name[:60]})"
    if problem is not None:
        out.reject(position, problem, f"<testsuite name={name[:200]!r}> … (not kept)", service)
        return
    try:
        raw = ET.tostring(suite, encoding="unicode")
    except Exception as exc:
        out.reject(position, unexpected(exc), f"<testsuite name={name[:200]!r}> …", service)
        return
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    suite_service = props.get("service") or service
    try:
        _events(out, suite, raw, name, position, props, suite_service, now=now, skew=skew)
    except Exception as exc:
        out.reject(position, unexpected(exc), clip(raw), suite_service)


def _events(
    out: Sink,
    suite: ET.Element,
    raw: str,
    name: str,
    position: str,
    props: dict[str | None, str | None],
    suite_service: str | None,
    *,
    now: datetime,
    skew: timedelta,
) -> None:
    try:
        at = parse_ts(suite.get("timestamp"), now=now, skew=skew, name="timestamp")
    except TimestampError as exc:
        out.reject(position, str(exc), clip(raw), suite_service)
        return
    cases = list(suite.iter("testcase"))
    failed = [c for c in cases if c.find("failure") is not None or c.find("error") is not None]
    events = [
        EventIn(
            source=EventSource.CI,
            type="test_run",
            occurred_at=at,
            severity=EventSeverity.MEDIUM if failed else EventSeverity.INFO,
            service=suite_service,
            title=f"Tests {name}: {len(failed)} of {len(cases)} failed",
            data={"suite": name, "tests": len(cases), "failed": len(failed), "props": props},
            external_id=f"junit:{name}:{at.isoformat()}",
            payload_hash=payload_hash(raw),
        )
    ]
    for case in failed:
        problem = case.find("failure")
        problem = problem if problem is not None else case.find("error")
        assert problem is not None
        test = f"{case.get('classname', '')}.{case.get('name', '')}".strip(".")
        message = problem.get("message") or (problem.text or "").strip()[:300]
        events.append(
            EventIn(
                source=EventSource.CI,
                type="test_failure",
                occurred_at=at,
                severity=EventSeverity.MEDIUM,
                service=suite_service,
                title=f"Test failed: {test}" + (f" — {message}" if message else ""),
                data={"suite": name, "test": test, "message": message, "kind": problem.tag},
                external_id=f"junit:{name}:{at.isoformat()}:{test}",
                payload_hash=payload_hash(ET.tostring(case, encoding="unicode")),
            )
        )
    # All built before any is handed on, so a suite is stored whole or quarantined whole.
    for number, event in enumerate(events):
        out.event(event, position=position, raw=clip(raw), derived=number > 0)
