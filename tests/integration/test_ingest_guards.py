"""Malformed input, the path allow-list, size caps, retries and the circuit breaker, the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cli.app import main as revo
from domain.base import utcnow
from domain.enums import BreakerState, EventSource, QuarantineStatus, Role
from domain.models import Event, QuarantinedRecord
from services.errors import InvalidInput, PermissionDenied
from services.ingest import quarantine
from services.ingest import service as ingest
from services.ingest.breaker import CircuitOpen
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.ingest_inputs import T0, ingest_root, iso, log_line, make_repo

__all__ = ["ingest_root"]
Pair = tuple[TenantWithUsers, TenantWithUsers]


def _quarantined() -> dict[str, str]:
    with UnitOfWork(None, readonly=True) as uow:
        rows = uow.session.scalars(select(QuarantinedRecord).order_by(QuarantinedRecord.id))
        return {r.position: r.reason for r in rows}


def _event_titles() -> list[str]:
    with UnitOfWork(None, readonly=True) as uow:
        return list(uow.session.scalars(select(Event.title).order_by(Event.id)))


def test_every_kind_of_malformed_log_line_is_quarantined_with_its_reason_and_nothing_else_lost(
    two_tenants: Pair, ingest_root: Path
) -> None:
    north, _ = two_tenants
    future = utcnow() + timedelta(days=2)
    lines = [
        log_line(T0, "checkout", message="good one").encode(),
        b'{"ts": "2026-11-20T10:00:00Z", "level": "error", ',
        json.dumps({"ts": iso(T0), "level": "error", "service": 5, "message": "x"}).encode(),
        json.dumps({"ts": iso(T0), "level": "error", "message": "no service"}).encode(),
        b'{"message": "' + b"x" * 70_000 + b'"}',
        b'{"ts": "2026-11-20T10:00:00Z", "level": "error", "service": "a", "message": "\xff\xfe"}',
        json.dumps(
            {"ts": "2026-11-20T10:00:00", "level": "error", "service": "a", "message": "naive"}
        ).encode(),
        json.dumps(
            {"ts": iso(future), "level": "error", "service": "a", "message": "later"}
        ).encode(),
        b"[1, 2, 3]",
        log_line(T0 + timedelta(seconds=1), "checkout", message="good two").encode(),
    ]
    (ingest_root / "bad.log").write_bytes(b"\n".join(lines))

    report = ingest.ingest_file(
        actor=north.actor(Role.ADMIN), source=EventSource.LOGS, path="bad.log"
    )

    assert (report.records, report.inserted, report.quarantined) == (10, 2, 8)
    assert _event_titles() == ["good one", "good two"]
    reasons = _quarantined()
    assert "not JSON" in reasons["line 2, column 50"]
    assert "service: Input should be a valid string" in reasons["line 3"]
    assert "service is missing" in reasons["line 4"]
    assert "70,015 bytes long; the limit is 65,536" in reasons["line 5"]
    assert "not valid UTF-8" in reasons["line 6, byte 78"]
    assert "has no time zone" in reasons["line 7"]
    assert "lies in the future" in reasons["line 8"]
    assert "must be a JSON object" in reasons["line 9"]


def test_malformed_metrics_spans_junit_and_records_are_quarantined_not_crashing(
    two_tenants: Pair, ingest_root: Path
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    (ingest_root / "m.csv").write_text(
        f"timestamp,service,metric,value\n{iso(T0)},a,cpu,abc\n{iso(T0)},a,cpu\n"
        f"{iso(T0)},a,cpu,nan\n2026-11-20 10:00,a,cpu,1\n{iso(T0)},a,cpu,1\n"
    )
    (ingest_root / "s.json").write_text(json.dumps([{"trace_id": "t", "span_id": 1}]))
    (ingest_root / "broken.xml").write_text("<testsuites><testsuite name='x'>")
    (ingest_root / "ci.json").write_text("[{]")
    results = [
        ingest.ingest_file(actor=admin, source=EventSource.METRICS, path="m.csv"),
        ingest.ingest_file(actor=admin, source=EventSource.TRACES, path="s.json"),
        ingest.ingest_file(actor=admin, source=EventSource.CI, path="broken.xml"),
        ingest.ingest_file(actor=admin, source=EventSource.CI, path="ci.json"),
    ]
    assert [r.quarantined for r in results] == [4, 1, 1, 2]  # "[{]": item 1, and no "]"
    reasons = list(_quarantined().values())
    assert "'abc' is not a number" in reasons[0] and "expected 4 fields, found 3" in reasons[1]
    assert "finite" in reasons[2] and "no time zone" in reasons[3]
    assert "span_id: Input should be a valid string" in reasons[4]
    assert "not well-formed XML" in reasons[5] and "not JSON" in reasons[6]


def test_a_quarantined_line_fixed_and_retried_becomes_an_event(
    two_tenants: Pair, ingest_root: Path
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    bad = json.dumps(
        {"ts": "2026-11-20T10:00:00", "level": "error", "service": "a", "message": "m"}
    )
    (ingest_root / "x.log").write_text(bad + "\n")
    ingest.ingest_file(actor=admin, source=EventSource.LOGS, path="x.log")
    (record,) = quarantine.list_quarantine(actor=admin).items

    still_bad = quarantine.retry_quarantined(actor=admin, record_id=record.id, raw=bad[:-3])
    assert not still_bad.accepted and "not JSON" in still_bad.record.reason
    fixed = bad.replace("10:00:00", "10:00:00Z")
    outcome = quarantine.retry_quarantined(actor=admin, record_id=record.id, raw=fixed)

    assert outcome.accepted and outcome.inserted == 1
    assert outcome.record.status is QuarantineStatus.RESOLVED
    assert quarantine.list_quarantine(actor=admin).items == []
    assert _event_titles() == ["m"]


def test_paths_outside_the_ingest_roots_are_refused_with_a_clear_message(
    two_tenants: Pair, ingest_root: Path, tmp_path: Path
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    outside = tmp_path / "secret.log"
    outside.write_text(log_line(T0, "a") + "\n")
    (ingest_root / "link.log").symlink_to(outside)
    (ingest_root / "sub").mkdir()
    cases = {
        "sub/../../secret.log": "contains '..'",
        str(outside): "lies outside the ingest roots",
        "link.log": "symbolic link that leads outside",
        "missing.log": "does not exist",
        "sub": "is not a file",
    }
    for path, message in cases.items():
        with pytest.raises(InvalidInput, match=message):
            ingest.ingest_file(actor=admin, source=EventSource.LOGS, path=path)
    (ingest_root / "plain.log").write_text("")
    with pytest.raises(InvalidInput, match="is not a directory"):
        ingest.ingest_git(actor=admin, path="plain.log")
    assert _event_titles() == []


def test_files_and_uploads_over_the_size_cap_are_refused(
    two_tenants: Pair, ingest_root: Path, settings: Callable[..., None]
) -> None:
    settings(ingest_max_upload_mb="0.001")
    admin = two_tenants[0].actor(Role.ADMIN)
    (ingest_root / "big.log").write_text((log_line(T0, "a") + "\n") * 50)
    with pytest.raises(InvalidInput, match=r"the limit is 0\.001 MB"):
        ingest.ingest_file(actor=admin, source=EventSource.LOGS, path="big.log")
    with pytest.raises(InvalidInput, match=r"the limit is 0\.001 MB"):
        ingest.ingest_upload(
            actor=admin, source=EventSource.LOGS, filename="b.log", content=b"x" * 2_000
        )
    small = ingest.ingest_upload(
        actor=admin,
        source=EventSource.LOGS,
        filename="../s.log",
        content=log_line(T0, "a").encode(),
    )
    assert small.inserted == 1 and small.origin == "upload:s.log"


def test_a_failing_source_is_retried_then_trips_the_breaker_and_recovers_after_cooldown(
    two_tenants: Pair, ingest_root: Path, settings: Callable[..., None]
) -> None:
    admin = two_tenants[0].actor(Role.ADMIN)
    (ingest_root / "shop").mkdir()  # not a git repository yet
    for _ in range(3):
        with pytest.raises(ingest.SourceFailed, match="after 3 attempt"):
            ingest.ingest_git(actor=admin, path="shop")
    (health,) = quarantine.connector_health(actor=admin)
    assert health.breaker_state is BreakerState.OPEN and health.consecutive_failures == 3
    assert "not a git repository" in (health.last_error or "")
    with pytest.raises(CircuitOpen, match="paused after 3 failed attempts"):
        ingest.ingest_git(actor=admin, path="shop")

    settings(ingest_breaker_cooldown_s=0)
    (ingest_root / "shop").rmdir()
    make_repo(ingest_root)
    report = ingest.ingest_git(actor=admin, path="shop")
    assert report.inserted == 4 and report.breaker_state is BreakerState.CLOSED
    (health,) = quarantine.connector_health(actor=admin)
    assert (health.runs, health.events_ingested, health.consecutive_failures) == (4, 4, 0)
    assert health.last_success_at is not None


def test_roles_without_ingest_permission_cannot_ingest_or_see_the_quarantine(
    two_tenants: Pair, ingest_root: Path
) -> None:
    viewer = two_tenants[0].actor(Role.VIEWER)
    with pytest.raises(PermissionDenied):
        ingest.ingest_upload(actor=viewer, source=EventSource.LOGS, filename="a", content=b"")
    with pytest.raises(PermissionDenied):
        quarantine.list_quarantine(actor=viewer)


def test_revo_ingest_command_ingests_a_file_for_a_tenant(
    two_tenants: Pair,
    ingest_root: Path,
    db_url: str,
    settings: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings(database_url=db_url)
    (ingest_root / "a.log").write_text(log_line(T0, "a") + "\n{oops\n")
    assert revo(["ingest", "logs", "a.log", "--tenant", "north"]) == 0
    assert "1 new events, 0 already stored, 1 quarantined" in capsys.readouterr().out
    assert revo(["ingest", "logs", "a.log", "--tenant", "nowhere"]) == 1
    assert "no tenant 'nowhere'" in capsys.readouterr().err
