"""Hostile records seen in the field: each one is quarantined with every reason, the rest lands,
and both engines end up with the same events, the same quarantine and a summary that adds up."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from domain.enums import EventSource, Role
from domain.models import Event, QuarantinedRecord
from services import db
from services.ingest import quarantine
from services.ingest import service as ingest
from services.ingest.service import IngestReport
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.ingest_inputs import T0, ingest_root, iso, log_line

__all__ = ["ingest_root"]
Pair = tuple[TenantWithUsers, TenantWithUsers]


def _quarantine(origin_end: str) -> dict[str, tuple[str, str]]:
    with UnitOfWork(None, readonly=True) as uow:
        rows = uow.session.scalars(select(QuarantinedRecord).order_by(QuarantinedRecord.id))
        return {r.position: (r.reason, r.raw) for r in rows if r.origin.endswith(origin_end)}


def _titles(source: EventSource) -> list[str]:
    with UnitOfWork(None, readonly=True) as uow:
        q = select(Event.title).where(Event.source == source).order_by(Event.id)
        return list(uow.session.scalars(q))


def _adds_up(report: IngestReport) -> None:
    parts = report.inserted + report.duplicates + report.quarantined + report.skipped
    assert report.records == parts, report


def _log(**fields: object) -> str:
    doc = {"ts": iso(T0), "level": "error", "service": "checkout", "message": "m", **fields}
    return json.dumps(doc)


def test_hostile_log_lines_are_each_quarantined_with_all_their_reasons_and_the_rest_lands(
    two_tenants: Pair, ingest_root: Path
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    deep = "[" * 5_000 + "]" * 5_000
    lines = [
        log_line(T0, "checkout", message="good one"),
        _log(ts="0001-01-01T00:30:00+01:00"),
        _log(ts="9999-12-31T23:30:00-01:00"),
        '{"ts": "2026-11-20T10:00:00Z", "level": "error", "service": "a", "message": "m", '
        f'"x": {deep}}}',
        _log(message="nul \u0000 inside"),
        _log(message="lone \ud800 surrogate"),
        _log(latency=float("nan"), ratio=float("inf")),
        _log(ts="2026-11-20T10:00:00Z", size=1).replace('"size": 1', '"size": 1e400'),
        _log(nested={"a" * 3: {"b": "\u0000"}}),
        json.dumps({"ts": "0001-01-01T00:00:00+05:00", "level": 7, "message": "m", "v": None}),
        log_line(T0 + timedelta(seconds=1), "checkout", message="good two"),
    ]
    raw = "\n".join(lines).encode() + b'\n{"ts": "x", "message": "raw \x00 byte"}\n'
    (ingest_root / "hostile.log").write_bytes(raw)

    report = ingest.ingest_file(actor=admin, source=EventSource.LOGS, path="hostile.log")

    assert (report.records, report.inserted, report.quarantined) == (12, 2, 10)
    _adds_up(report)
    assert _titles(EventSource.LOGS) == ["good one", "good two"]
    q = _quarantine("hostile.log")
    assert "outside the years 1 to 9999 once converted to UTC" in q["line 2"][0]
    assert "outside the years 1 to 9999 once converted to UTC" in q["line 3"][0]
    assert "nested more than 64 levels deep" in q["line 4"][0]
    assert "message: the value contains a NUL character" in q["line 5"][0]
    assert "message: the value contains a lone surrogate" in q["line 6"][0]
    assert "latency: nan is not a finite number" in q["line 7"][0]
    assert "ratio: inf is not a finite number" in q["line 7"][0]
    assert "size: inf is not a finite number" in q["line 8"][0]
    assert "nested.aaa.b: the value contains a NUL character" in q["line 9"][0]
    every = q["line 10"][0]  # every problem of the record, not just the first
    assert "service is missing" in every and "level: Input should be a valid string" in every
    assert "outside the years 1 to 9999" in every
    reason, kept = next(v for k, v in q.items() if k.startswith("line 12"))
    assert "not JSON: Invalid control character" in reason and "raw \\x00 byte" in kept
    assert "\\ud800" in q["line 6"][1]  # the raw line is kept as it came, escaped


def test_an_array_never_closed_keeps_its_items_and_says_the_bracket_is_missing(
    two_tenants: Pair, ingest_root: Path
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    build = {"kind": "build", "status": "succeeded", "service": "api", "started_at": iso(T0)}
    (ingest_root / "builds.json").write_text(
        f"[\n{json.dumps({**build, 'id': 'b-1'})},\n{json.dumps({**build, 'id': 'b-2'})}\n"
    )

    report = ingest.ingest_file(actor=admin, source=EventSource.CI, path="builds.json")

    assert (report.records, report.inserted, report.quarantined) == (3, 2, 1)
    _adds_up(report)
    assert "closed with ]" in _quarantine("builds.json")["end of file"][0]


def test_hostile_spans_in_a_json_array_are_quarantined_item_by_item(
    two_tenants: Pair, ingest_root: Path
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    base = {"trace_id": "t1", "service": "checkout", "name": "POST /cart", "status": "error"}
    good = [{**base, "span_id": s, "start": iso(T0), "duration_ms": 5} for s in ("a", "b")]
    body = ",".join(
        [
            json.dumps(good[0]),
            json.dumps({**base, "span_id": "c", "start": iso(T0)})[:-1]
            + ', "duration_ms": ' + "9" * 400 + "}",
            json.dumps({**base, "span_id": "d", "start": iso(T0), "duration_ms": 1,
                        "attributes": {"x": "[" * 3}}).replace('"[[["', "[" * 900 + "]" * 900),
            json.dumps({**base, "span_id": "e\ud800", "start": "9999-12-31T23:00:00-05:00",
                        "duration_ms": 1}),
            json.dumps(good[1]),
        ]
    )  # fmt: skip
    (ingest_root / "spans.json").write_text(f"[\n{body}\n]\n")

    report = ingest.ingest_file(actor=admin, source=EventSource.TRACES, path="spans.json")

    assert (report.records, report.inserted, report.quarantined) == (5, 2, 3)
    _adds_up(report)
    q = _quarantine("spans.json")
    assert "duration_ms: 99999999999999999999… is too large a number" in q["item 2"][0]
    assert "nested more than 64 levels deep" in q["item 3"][0]
    assert "span_id: the value contains a lone surrogate" in q["item 4"][0]
    assert "outside the years 1 to 9999" in q["item 4"][0]


def test_a_junit_suite_nested_too_deep_is_quarantined_and_the_other_suites_land(
    two_tenants: Pair, ingest_root: Path
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    deep = "<a>" * 3_000 + "</a>" * 3_000
    suite = '<testsuite name="{0}" timestamp="{1}"><testcase name="t"/>{2}</testsuite>'
    report_xml = (
        "<testsuites>"
        + suite.format("first", iso(T0), "")
        + suite.format("deep", iso(T0), deep)
        + suite.format("year-one", "0001-01-01T00:00:00+01:00", "")
        + suite.format("n" * 400, iso(T0), "")  # its external id would be too long
        + suite.format("last", iso(T0), "")
        + "</testsuites>"
    )
    (ingest_root / "r.xml").write_text(report_xml)

    report = ingest.ingest_file(actor=admin, source=EventSource.CI, path="r.xml")

    assert (report.records, report.inserted, report.quarantined) == (5, 2, 3)
    _adds_up(report)
    assert _titles(EventSource.CI) == ["Tests first: 0 of 1 failed", "Tests last: 0 of 1 failed"]
    reasons = [reason for reason, _raw in _quarantine("r.xml").values()]
    assert "nested more than 64 elements deep" in reasons[0]
    assert "outside the years 1 to 9999" in reasons[1]
    assert "external_id: String should have at most 300 characters" in reasons[2]


def test_a_broken_junit_report_keeps_the_suites_before_the_break(
    two_tenants: Pair, ingest_root: Path
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    (ingest_root / "cut.xml").write_text(
        f'<testsuites><testsuite name="kept" timestamp="{iso(T0)}"><testcase name="t"/>'
        '</testsuite><testsuite name="cut" timestamp="x"><testcase'
    )
    report = ingest.ingest_file(actor=admin, source=EventSource.CI, path="cut.xml")
    assert (report.records, report.inserted, report.quarantined) == (2, 1, 1)
    ((position, (reason, _raw)),) = _quarantine("cut.xml").items()
    assert position.startswith("line 1") and "not well-formed XML" in reason


@pytest.fixture
def poison_trigger(db_url: str) -> Iterator[None]:
    """A database that refuses one event (a trigger), as a real engine refuses a value."""
    engine = db.get_engine(db_url)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(text(
                "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.title = 'poison' "
                "BEGIN SELECT RAISE(ABORT, 'poison refused'); END"
            ))  # fmt: skip
        else:
            conn.execute(text(
                "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.title = 'poison' THEN RAISE EXCEPTION 'poison refused'; END IF; "
                "RETURN NEW; END $$"
            ))  # fmt: skip
            conn.execute(text(
                "CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW "
                "EXECUTE FUNCTION poison()"
            ))  # fmt: skip
    try:
        yield
    finally:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(text("DROP TRIGGER poison"))
            else:
                conn.execute(text("DROP TRIGGER poison ON events"))
                conn.execute(text("DROP FUNCTION poison()"))


def test_an_event_the_database_refuses_is_quarantined_with_its_reason_and_its_batch_lands(
    two_tenants: Pair, ingest_root: Path, poison_trigger: None
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    lines = [log_line(T0 + timedelta(minutes=i), "checkout", message=f"m{i}") for i in range(5)]
    lines[2] = log_line(T0, "checkout", message="poison")
    content = io.BytesIO(("\n".join(lines) + "\n").encode())

    report = ingest.ingest_upload(
        actor=admin, source=EventSource.LOGS, filename="p.log", content=content
    )

    assert (report.records, report.inserted, report.quarantined) == (5, 4, 1)
    _adds_up(report)
    assert _titles(EventSource.LOGS) == ["m0", "m1", "m3", "m4"]
    ((position, (reason, _raw)),) = _quarantine("p.log").items()
    assert position == "line 3" and "the database refused it" in reason
    assert "poison refused" in reason


def test_the_summary_adds_up_on_a_re_ingest_and_the_quarantine_is_not_doubled(
    two_tenants: Pair, ingest_root: Path
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    spike = [log_line(T0 + timedelta(seconds=s), "api", message=f"e{s}") for s in range(6)]
    rows = [*spike, log_line(T0, "api", "info", "fine"), "{oops", _log(ts="yesterday")]
    (ingest_root / "again.log").write_text("\n".join(rows) + "\n")

    first = ingest.ingest_file(actor=admin, source=EventSource.LOGS, path="again.log")
    again = ingest.ingest_file(actor=admin, source=EventSource.LOGS, path="again.log")

    assert (first.records, first.inserted, first.quarantined, first.skipped) == (9, 6, 2, 1)
    assert (first.derived_inserted, again.derived_duplicates) == (1, 1)  # the error spike
    assert (again.records, again.inserted, again.duplicates) == (9, 0, 6)
    assert (again.quarantined, again.skipped) == (2, 1)
    _adds_up(first)
    _adds_up(again)
    assert len(_quarantine("again.log")) == 2


def test_a_retried_fix_holding_nul_or_a_lone_surrogate_stays_quarantined_and_is_stored_escaped(
    two_tenants: Pair, ingest_root: Path
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    (ingest_root / "fix.log").write_text(_log(ts="yesterday") + "\n")
    ingest.ingest_file(actor=admin, source=EventSource.LOGS, path="fix.log")
    (record,) = quarantine.list_quarantine(actor=admin).items

    surrogate = quarantine.retry_quarantined(
        actor=admin, record_id=record.id, raw=_log(message="x").replace('"x"', '"\ud800"', 1)
    )
    assert not surrogate.accepted and "not valid UTF-8" in surrogate.record.reason
    assert "\\ud800" in surrogate.record.raw
    nul = quarantine.retry_quarantined(actor=admin, record_id=record.id, raw='{"ts": "\x00"}')
    assert not nul.accepted and "Invalid control character" in nul.record.reason
    assert "\\x00" in nul.record.raw
