"""Property-based: for any mix of valid records and hostile ones, per connector and engine,
every valid record lands (or is counted as making no event), every bad one is quarantined at
its own position with a reason, and the summary adds up, also on a re-ingest.

JSON-lines and CSV files take arbitrary bytes as bad lines. A JSON array or a JUnit report
cannot survive a syntax error in the middle (where the next item begins is then unknowable),
so their bad records are well-formed but invalid: wrong schema, hostile values, deep nesting.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from domain.enums import EventSource, Role
from domain.models import Event, QuarantinedRecord
from services.ingest import service as ingest
from services.ingest.service import IngestReport
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.ingest_inputs import T0, iso

Pair = tuple[TenantWithUsers, TenantWithUsers]
MAX_LINE = 16_384
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def root(tmp_path: Path, settings: Callable[..., None]) -> Path:
    path = tmp_path / "ingest"
    path.mkdir()
    settings(ingest_roots=path, ingest_max_line_bytes=MAX_LINE)
    return path


# Text both engines store: no NUL, no lone surrogates (hypothesis never makes those in text).
safe_text = st.text(st.characters(blacklist_characters="\x00"), max_size=30)
safe_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | safe_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(safe_text, inner, max_size=3),
    max_leaves=6,
)  # fmt: skip
OVERFLOWING_TIMES = ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"]
deep = st.integers(65, 3_000).map(lambda n: "[" * n + "]" * n)
hostile_value = st.sampled_from(
    ['"\\u0000"', '"a\\ud800b"', "NaN", "Infinity", "-Infinity", "1e400", "9" * 5_000]
) | deep  # fmt: skip
junk_line = st.binary(min_size=1, max_size=60).filter(
    lambda b: b"\n" not in b and b.rstrip(b"\r").strip() != b""
)
too_long = st.just(b'{"x": "' + b"y" * (MAX_LINE + 10) + b'"}')


def _with(doc: dict[str, object], key: str, literal: str) -> bytes:
    """The object as JSON with one key set to a raw JSON literal (NaN, deep nesting …)."""
    body = json.dumps({**doc, key: "@@"})
    return body.replace('"@@"', literal).encode()


def _lines(file: Path, parts: list[bytes]) -> None:
    file.write_bytes(b"\n".join(parts) + b"\n")


def _quarantined(origin: str) -> dict[int, str]:
    with UnitOfWork(None, readonly=True) as uow:
        rows = uow.session.execute(
            select(QuarantinedRecord.position, QuarantinedRecord.reason).where(
                QuarantinedRecord.origin == origin
            )
        )
        return {int(re.findall(r"\d+", position)[0]): reason for position, reason in rows}


def _events(service_prefix: str) -> list[Event]:
    with UnitOfWork(None, readonly=True) as uow:
        q = select(Event).where(Event.service.startswith(service_prefix))
        rows = list(uow.session.scalars(q))
        uow.session.expunge_all()
        return rows


def _check(report: IngestReport, bad: set[int], *, made: int, read: int) -> None:
    assert report.records == read, report
    assert report.quarantined == len(bad), report
    assert report.inserted + report.duplicates == made, report
    parts = report.inserted + report.duplicates + report.quarantined + report.skipped
    assert parts == report.records, report
    reasons = _quarantined(report.origin)
    assert set(reasons) == bad and all(reason.strip() for reason in reasons.values())


# -- logs -------------------------------------------------------------------------------------


@st.composite
def log_record(draw: st.DrawFn, nonce: str, index: int) -> tuple[bool, bool, bytes]:
    """(valid, makes an event, line)."""
    level = draw(st.sampled_from(["error", "fatal", "CRITICAL", "info", "debug"]))
    doc: dict[str, object] = {
        "ts": iso(T0 + timedelta(seconds=draw(st.integers(0, 86_400)))),
        "level": level,
        "service": f"{nonce}-{draw(st.text('abc', min_size=1, max_size=3))}",
        "message": draw(safe_text),
        "request": index,
        "extra": draw(safe_json),
    }
    kind = draw(st.sampled_from(["valid", "junk", "long", "value", "time", "fields", "array"]))
    if kind == "valid":
        return True, level.lower() in {"error", "fatal", "critical"}, json.dumps(doc).encode()
    if kind == "junk":
        return False, False, draw(junk_line)
    if kind == "long":
        return False, False, draw(too_long)
    if kind == "value":
        key = draw(st.sampled_from(["extra", "message"]))
        return False, False, _with(doc, key, draw(hostile_value))
    if kind == "time":
        ts = draw(st.sampled_from([*OVERFLOWING_TIMES, "2026-11-20T10:00:00", "soon", 5]))
        return False, False, json.dumps({**doc, "ts": ts}).encode()
    if kind == "fields":
        gone = draw(st.lists(st.sampled_from(["ts", "level", "service", "message"]), min_size=1))
        return False, False, json.dumps({k: v for k, v in doc.items() if k not in gone}).encode()
    return False, False, json.dumps([doc]).encode()


@PROPERTY
@given(data=st.data())
def test_any_mix_of_log_lines_lands_the_good_and_quarantines_the_bad(
    two_tenants: Pair, root: Path, data: st.DataObject
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    nonce = uuid.uuid4().hex[:8]
    records = [data.draw(log_record(nonce, i)) for i in range(data.draw(st.integers(1, 8)))]
    _lines(root / f"{nonce}.log", [line for _v, _e, line in records])
    bad = {n for n, (valid, _e, _l) in enumerate(records, 1) if not valid}
    made = sum(1 for valid, event, _l in records if valid and event)

    first = ingest.ingest_file(actor=admin, source=EventSource.LOGS, path=f"{nonce}.log")
    again = ingest.ingest_file(actor=admin, source=EventSource.LOGS, path=f"{nonce}.log")

    _check(first, bad, made=made, read=len(records))
    _check(again, bad, made=made, read=len(records))
    assert (first.duplicates, again.inserted) == (0, 0)
    requests = sorted(e.data["request"] for e in _events(nonce) if e.type == "log_error")
    expected = [i for i, (valid, event, _l) in enumerate(records) if valid and event]
    assert requests == expected


# -- traces (JSON lines or one JSON array) ----------------------------------------------------


@st.composite
def span_record(draw: st.DrawFn, nonce: str, index: int, array: bool) -> tuple[bool, bool, bytes]:
    status = draw(st.sampled_from(["ok", "error"]))
    duration = draw(st.integers(0, 5_000) | st.floats(0, 5_000))
    doc: dict[str, object] = {
        "trace_id": nonce,
        "span_id": f"s{index}",
        "service": f"{nonce}-svc",
        "name": draw(safe_text.filter(lambda s: 0 < len(s) <= 300)),
        "start": iso(T0 + timedelta(milliseconds=draw(st.integers(0, 10**7)))),
        "duration_ms": duration,
        "status": status,
        "attributes": draw(st.dictionaries(safe_text, safe_json, max_size=3)),
    }
    kinds = ["valid", "value", "time", "schema", "big"] + ([] if array else ["junk", "long"])
    kind = draw(st.sampled_from(kinds))
    if kind == "valid":
        return True, status == "error" or duration >= 1_000, json.dumps(doc).encode()
    if kind == "junk":
        return False, False, draw(junk_line)
    if kind == "long":
        return False, False, draw(too_long)
    if kind == "value":
        key = draw(st.sampled_from(["attributes", "name", "span_id"]))
        return False, False, _with(doc, key, draw(hostile_value))
    if kind == "time":
        start = draw(st.sampled_from(OVERFLOWING_TIMES))
        return False, False, json.dumps({**doc, "start": start}).encode()
    if kind == "big":
        return False, False, _with(doc, "duration_ms", "9" * 400)
    broken = draw(st.sampled_from([{"status": "maybe"}, {"duration_ms": -1}, {"span_id": 7}]))
    return False, False, json.dumps({**doc, **broken}).encode()


@PROPERTY
@given(data=st.data(), array=st.booleans())
def test_any_mix_of_spans_lands_the_good_and_quarantines_the_bad(
    two_tenants: Pair, root: Path, data: st.DataObject, array: bool
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    nonce = uuid.uuid4().hex[:8]
    count = data.draw(st.integers(1, 8))
    records = [data.draw(span_record(nonce, i, array)) for i in range(count)]
    raws = [raw for _v, _e, raw in records]
    if array:
        (root / f"{nonce}.json").write_bytes(b"[\n" + b",\n".join(raws) + b"\n]\n")
    else:
        _lines(root / f"{nonce}.json", raws)
    bad = {n for n, (valid, _e, _r) in enumerate(records, 1) if not valid}
    made = sum(1 for valid, event, _r in records if valid and event)

    report = ingest.ingest_file(actor=admin, source=EventSource.TRACES, path=f"{nonce}.json")

    _check(report, bad, made=made, read=count)
    landed = sorted(e.external_id for e in _events(nonce))
    expected = sorted(f"span:{nonce}:s{i}" for i, (v, e, _r) in enumerate(records) if v and e)
    assert landed == expected


# -- CI: build/deploy records and JUnit -------------------------------------------------------


@st.composite
def build_record(draw: st.DrawFn, nonce: str, index: int) -> tuple[bool, bytes]:
    doc: dict[str, object] = {
        "kind": "build",
        "id": f"{nonce}-{index}",
        "status": draw(st.sampled_from(["succeeded", "failed", "cancelled", "running"])),
        "service": f"{nonce}-svc",
        "started_at": iso(T0 + timedelta(minutes=draw(st.integers(0, 10_000)))),
    }
    kind = draw(st.sampled_from(["valid", "junk", "value", "time", "deploy", "order"]))
    if kind == "valid":
        return True, json.dumps(doc).encode()
    if kind == "junk":
        # A file whose first byte is "[" is one JSON array (records.json_records), not lines.
        return False, draw(junk_line.filter(lambda b: not b.lstrip().startswith(b"[")))
    if kind == "value":
        return False, _with(doc, draw(st.sampled_from(["url", "service"])), draw(hostile_value))
    if kind == "time":
        finished = draw(st.sampled_from(OVERFLOWING_TIMES))
        return False, json.dumps({**doc, "finished_at": finished}).encode()
    if kind == "deploy":
        return False, json.dumps({**doc, "kind": "deploy"}).encode()  # no environment
    return False, json.dumps({**doc, "finished_at": iso(T0 - timedelta(days=1))}).encode()


@PROPERTY
@given(data=st.data())
def test_any_mix_of_build_records_lands_the_good_and_quarantines_the_bad(
    two_tenants: Pair, root: Path, data: st.DataObject
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    nonce = uuid.uuid4().hex[:8]
    records = [data.draw(build_record(nonce, i)) for i in range(data.draw(st.integers(1, 8)))]
    _lines(root / f"{nonce}.jsonl", [raw for _v, raw in records])
    bad = {n for n, (valid, _r) in enumerate(records, 1) if not valid}

    report = ingest.ingest_file(actor=admin, source=EventSource.CI, path=f"{nonce}.jsonl")

    _check(report, bad, made=len(records) - len(bad), read=len(records))
    landed = sorted(e.external_id for e in _events(nonce))
    assert landed == sorted(f"build:{nonce}-{i}" for i, (v, _r) in enumerate(records) if v)


xml_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xD7FF), min_size=1, max_size=20)


@st.composite
def junit_suite(draw: st.DrawFn, nonce: str, index: int) -> tuple[bool, int, str]:
    """(valid, failed test cases, the suite's XML)."""
    name = f"{nonce}-{index}-{draw(xml_text)}"
    failures = draw(st.integers(0, 3))
    cases = "".join(
        f'<testcase classname="c" name="t{i}"><failure message={quoteattr(draw(xml_text))}/>'
        "</testcase>"
        for i in range(failures)
    )
    kind = draw(st.sampled_from(["valid", "valid", "time", "zoneless", "deep", "long name"]))
    stamp = iso(T0 + timedelta(minutes=index))
    extra = ""
    if kind == "time":
        stamp = draw(st.sampled_from(OVERFLOWING_TIMES))
    elif kind == "zoneless":
        stamp = "2026-11-20T10:00:00"
    elif kind == "deep":
        depth = draw(st.integers(70, 2_000))
        extra = "<a>" * depth + "</a>" * depth
    elif kind == "long name":
        name += "n" * 300
    props = f'<properties><property name="service" value="{nonce}-svc"/></properties>'
    xml = (f"<testsuite name={quoteattr(name)} timestamp={quoteattr(stamp)}>{props}"
           f'<testcase classname="c" name="ok"/>{cases}{extra}</testsuite>')  # fmt: skip
    return kind == "valid", failures, xml


@PROPERTY
@given(data=st.data())
def test_any_mix_of_junit_suites_lands_the_good_and_quarantines_the_bad(
    two_tenants: Pair, root: Path, data: st.DataObject
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    nonce = uuid.uuid4().hex[:8]
    suites = [data.draw(junit_suite(nonce, i)) for i in range(data.draw(st.integers(1, 6)))]
    (root / f"{nonce}.xml").write_text(
        "<testsuites>" + "".join(xml for _v, _f, xml in suites) + "</testsuites>"
    )
    bad = {n for n, (valid, _f, _x) in enumerate(suites, 1) if not valid}

    report = ingest.ingest_file(actor=admin, source=EventSource.CI, path=f"{nonce}.xml")

    _check(report, bad, made=len(suites) - len(bad), read=len(suites))
    assert report.derived_inserted == sum(f for valid, f, _x in suites if valid)
    runs = [e for e in _events(nonce) if e.type == "test_run"]
    assert len(runs) == len(suites) - len(bad)


# -- metrics ----------------------------------------------------------------------------------


@st.composite
def metric_row(draw: st.DrawFn, nonce: str, minute: int) -> tuple[bool, bytes]:
    stamp = iso(T0 + timedelta(minutes=minute))
    value = draw(st.sampled_from(["100", "100.0", "1e2", " 100 "]))  # one level: no anomaly
    kind = draw(st.sampled_from(["valid", "valid", "junk", "nul", "time", "value", "fields"]))
    if kind == "valid":
        return True, f"{stamp},{nonce}-svc,cpu,{value}".encode()
    if kind == "junk":
        return False, draw(junk_line.filter(lambda b: b.count(b",") != 3))
    if kind == "nul":
        return False, f"{stamp},{nonce}-\x00,cpu,{value}".encode()
    if kind == "time":
        return False, f"{draw(st.sampled_from(OVERFLOWING_TIMES))},{nonce}-svc,cpu,1".encode()
    if kind == "value":
        number = draw(st.sampled_from(["nan", "inf", "-inf", "1e400", "x", ""]))
        return False, f"{stamp},{nonce}-svc,cpu,{number}".encode()
    return False, f"{stamp},{nonce}-svc,cpu".encode()


@PROPERTY
@given(data=st.data())
def test_any_mix_of_metric_rows_lands_the_good_and_quarantines_the_bad(
    two_tenants: Pair, root: Path, data: st.DataObject
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    nonce = uuid.uuid4().hex[:8]
    rows = [data.draw(metric_row(nonce, m)) for m in range(data.draw(st.integers(1, 12)))]
    _lines(root / f"{nonce}.csv", [b"timestamp,service,metric,value", *(r for _v, r in rows)])
    bad = {n for n, (valid, _r) in enumerate(rows, 2) if not valid}

    report = ingest.ingest_file(actor=admin, source=EventSource.METRICS, path=f"{nonce}.csv")

    _check(report, bad, made=0, read=len(rows))
    assert report.skipped == len(rows) - len(bad)


# -- git (a real repository, written in one go with git fast-import) --------------------------


@st.composite
def git_commit(draw: st.DrawFn, index: int) -> tuple[bool, bytes, int]:
    """(valid, message bytes, committer time as seconds since 1970)."""
    at = int((T0 + timedelta(seconds=draw(st.integers(0, 86_400)))).timestamp())
    message = draw(safe_text).encode("utf-8", "surrogatepass") or b"empty"
    kind = draw(st.sampled_from(["valid", "valid", "bytes", "nul", "marks", "future"]))
    if kind == "bytes":  # not UTF-8: read with replacement characters, and kept
        return True, b"fix \xff\xfe " + draw(st.binary(max_size=20)).replace(b"\x00", b""), at
    if kind == "nul":  # git log shows a message up to its NUL: the commit lands with that part
        return True, message + b"\x00 hidden", at
    if kind == "marks":  # separators a fixed log format would split on
        return True, b"a\x1eb\x1fc\x1e\x1f" + message, at
    if kind == "future":
        return False, message, int(T0.timestamp()) + 10 * 365 * 86_400
    return True, message + f" #{index}".encode(), at


def _fast_import(repo: Path, commits: list[tuple[bool, bytes, int]]) -> list[str]:
    """A repository whose branch holds the commits in order; returns their shas (its own: the
    files sit in a folder named after the repository)."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    stream = bytearray()
    for mark, (_valid, message, at) in enumerate(commits, 1):
        stream += f"commit refs/heads/main\nmark :{mark}\n".encode()
        stream += f"committer Ada <ada@example.test> {at} +0000\n".encode()
        stream += f"data {len(message)}\n".encode() + message + b"\n"
        if mark > 1:
            stream += f"from :{mark - 1}\n".encode()
        stream += f"M 644 inline {repo.name}/{mark}.txt\ndata 2\n{mark % 10}\n\n".encode()
    marks = repo / "marks"
    subprocess.run(
        ["git", "-C", str(repo), "fast-import", "--quiet", f"--export-marks={marks}"],
        input=bytes(stream),
        check=True,
    )
    by_mark = dict(line.split() for line in marks.read_text().splitlines())
    marks.unlink()
    return [by_mark[f":{mark}"] for mark in range(1, len(commits) + 1)]


@PROPERTY
@given(data=st.data())
def test_any_mix_of_commits_lands_the_good_and_quarantines_the_bad(
    two_tenants: Pair, root: Path, data: st.DataObject
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    nonce = uuid.uuid4().hex[:8]
    commits = [data.draw(git_commit(i)) for i in range(data.draw(st.integers(1, 8)))]
    shas = _fast_import(root / nonce, commits)
    bad = {sha for sha, (valid, _m, _at) in zip(shas, commits, strict=True) if not valid}

    report = ingest.ingest_git(actor=admin, path=nonce, service=f"{nonce}-git")

    assert report.records == len(commits), report
    assert (report.inserted, report.quarantined) == (len(commits) - len(bad), len(bad)), report
    assert report.inserted + report.duplicates + report.quarantined + report.skipped == len(shas)
    with UnitOfWork(None, readonly=True) as uow:
        rows = uow.session.execute(
            select(QuarantinedRecord.position, QuarantinedRecord.reason).where(
                QuarantinedRecord.origin == report.origin
            )
        )
        reasons = {position.removeprefix("commit "): reason for position, reason in rows}
    assert set(reasons) == {sha[:12] for sha in bad} and all(r.strip() for r in reasons.values())
    landed = {e.data["sha"] for e in _events(f"{nonce}-git")}
    assert landed == set(shas) - bad
