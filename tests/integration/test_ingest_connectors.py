"""Connectors on real inputs: a git repository, JUnit XML, build records, logs, metrics, spans."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from domain.enums import EventSource, Role
from domain.models import Event, QuarantinedRecord
from services.ingest import service as ingest
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.ingest_inputs import (
    JUNIT,
    T0,
    commit,
    deploy,
    ingest_root,
    logs_with_spike,
    make_repo,
    metrics_with_anomaly,
    spans,
)

__all__ = ["ingest_root"]
Pair = tuple[TenantWithUsers, TenantWithUsers]


def _events(tenant_id: int, source: EventSource) -> list[Event]:
    with UnitOfWork(None, readonly=True) as uow:
        rows = list(
            uow.session.scalars(
                select(Event)
                .where(Event.tenant_id == tenant_id, Event.source == source)
                .order_by(Event.occurred_at, Event.id)
            )
        )
        uow.session.expunge_all()
        return rows


def _write(root: Path, name: str, text: str | bytes) -> str:
    path = root / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return name


def test_git_ingest_reads_commits_with_authors_files_and_merge_refs_then_only_new_ones(
    two_tenants: Pair, ingest_root: Path
) -> None:
    north, _ = two_tenants
    admin = north.actor(Role.ADMIN)
    repo = make_repo(ingest_root)

    first = ingest.ingest_git(actor=admin, path="shop")
    assert (first.records, first.inserted, first.quarantined) == (4, 4, 0)
    events = _events(north.tenant.id, EventSource.GIT)
    cart = next(e for e in events if e.title.endswith("Add cart"))
    assert cart.data["author"] == "Ada Lovelace" and cart.data["files"] == ["checkout/cart.py"]
    assert cart.service == "checkout" and cart.occurred_at == T0
    merge = next(e for e in events if e.type == "merge")
    assert merge.data["pr"] == 7 and len(merge.data["parents"]) == 2
    assert merge.data["files"] == ["checkout/cart.py"] and merge.service == "checkout"
    assert any("refs/heads/main" in r for r in merge.data["refs"])

    sha = commit(repo, "payments/api.py", "v2", "Retry card declines", T0 + timedelta(hours=1))
    second = ingest.ingest_git(actor=admin, path=str(repo))
    assert (second.records, second.inserted) == (1, 1)
    assert _events(north.tenant.id, EventSource.GIT)[-1].data["sha"] == sha
    assert ingest.ingest_git(actor=admin, path="shop").records == 0


def test_junit_report_gives_run_and_failure_events_and_quarantines_a_zoneless_suite(
    two_tenants: Pair, ingest_root: Path
) -> None:
    north, _ = two_tenants
    report = ingest.ingest_file(
        actor=north.actor(Role.ADMIN),
        source=EventSource.CI,
        path=_write(ingest_root, "r.xml", JUNIT),
    )
    assert (report.inserted, report.derived_inserted, report.quarantined) == (1, 1, 1)
    types = {e.type: e for e in _events(north.tenant.id, EventSource.CI)}
    assert types["test_run"].title == "Tests checkout-unit: 1 of 3 failed"
    assert types["test_failure"].service == "checkout"
    assert "expected 90, got 100" in types["test_failure"].title
    with UnitOfWork(None, readonly=True) as uow:
        bad = uow.session.scalars(select(QuarantinedRecord)).one()
        uow.session.expunge_all()
    assert bad.position.startswith("testsuite 2") and "no time zone" in bad.reason


def test_build_and_deploy_records_become_events_and_a_record_missing_fields_is_quarantined(
    two_tenants: Pair, ingest_root: Path
) -> None:
    north, _ = two_tenants
    lines = [
        json.dumps(deploy("d-1", "checkout", T0)),
        json.dumps(
            {
                "kind": "build",
                "id": "b-9",
                "status": "failed",
                "service": "search",
                "started_at": "2026-11-20T09:00:00+01:00",
            }
        ),
        json.dumps(
            {
                "kind": "deploy",
                "id": "d-2",
                "status": "succeeded",
                "service": "x",
                "started_at": "2026-11-20T09:00:00Z",
            }
        ),
    ]
    report = ingest.ingest_file(
        actor=north.actor(Role.ADMIN),
        source=EventSource.CI,
        path=_write(ingest_root, "ci.jsonl", "\n".join(lines)),
    )
    assert (report.inserted, report.quarantined) == (2, 1)
    deploy_event, build_event = sorted(
        _events(north.tenant.id, EventSource.CI), key=lambda e: e.type, reverse=True
    )
    assert deploy_event.type == "deploy" and deploy_event.occurred_at == T0 + timedelta(minutes=2)
    assert build_event.severity.value == "medium" and build_event.occurred_at.hour == 8
    with UnitOfWork(None, readonly=True) as uow:
        bad = uow.session.scalars(select(QuarantinedRecord)).one()
        uow.session.expunge_all()
    assert bad.position == "line 3" and "needs an environment" in bad.reason


def test_logs_give_error_events_and_one_spike_at_its_onset_minute(
    two_tenants: Pair, ingest_root: Path
) -> None:
    north, _ = two_tenants
    report = ingest.ingest_file(
        actor=north.actor(Role.ADMIN),
        source=EventSource.LOGS,
        path=_write(ingest_root, "app.log", logs_with_spike()),
    )
    assert (report.records, report.quarantined, report.skipped) == (65, 0, 20)
    events = _events(north.tenant.id, EventSource.LOGS)
    spikes = [e for e in events if e.type == "error_spike"]
    assert len([e for e in events if e.type == "log_error"]) == 45
    assert len(spikes) == 1
    assert spikes[0].occurred_at == T0 + timedelta(minutes=15)
    assert spikes[0].data["errors_at_onset"] == 30 and spikes[0].service == "checkout"


def test_metrics_give_an_anomaly_event_for_the_value_outside_the_rolling_band(
    two_tenants: Pair, ingest_root: Path
) -> None:
    north, _ = two_tenants
    report = ingest.ingest_file(
        actor=north.actor(Role.ADMIN),
        source=EventSource.METRICS,
        path=_write(ingest_root, "m.csv", metrics_with_anomaly()),
    )
    assert (report.records, report.inserted, report.quarantined) == (30, 1, 0)
    (anomaly,) = _events(north.tenant.id, EventSource.METRICS)
    assert anomaly.occurred_at == T0 + timedelta(minutes=25)
    assert anomaly.data["value"] == 500.0 and anomaly.severity.value == "high"


def test_spans_give_slow_and_failed_span_events(two_tenants: Pair, ingest_root: Path) -> None:
    north, _ = two_tenants
    report = ingest.ingest_file(
        actor=north.actor(Role.ADMIN),
        source=EventSource.TRACES,
        path=_write(ingest_root, "spans.jsonl", spans()),
    )
    assert (report.records, report.inserted, report.skipped) == (3, 2, 1)
    assert {e.type for e in _events(north.tenant.id, EventSource.TRACES)} == {
        "span_slow",
        "span_failed",
    }


def test_the_slow_span_threshold_is_a_setting(
    two_tenants: Pair, ingest_root: Path, settings: Callable[..., None]
) -> None:
    north, _ = two_tenants
    settings(ingest_slow_span_ms=25)
    report = ingest.ingest_file(
        actor=north.actor(Role.ADMIN),
        source=EventSource.TRACES,
        path=_write(ingest_root, "spans.jsonl", spans()),
    )
    assert (report.inserted, report.skipped) == (3, 0)  # 30 ms and 2.5 s are slow now
    kinds = sorted(e.type for e in _events(north.tenant.id, EventSource.TRACES))
    assert kinds == ["span_failed", "span_slow", "span_slow"]


def test_ingesting_the_same_inputs_twice_changes_nothing(
    two_tenants: Pair, ingest_root: Path
) -> None:
    north, south = two_tenants
    admin = north.actor(Role.ADMIN)
    make_repo(ingest_root)
    files = {
        EventSource.LOGS: _write(ingest_root, "a.log", logs_with_spike()),
        EventSource.METRICS: _write(ingest_root, "m.csv", metrics_with_anomaly()),
        EventSource.TRACES: _write(ingest_root, "s.jsonl", spans()),
        EventSource.CI: _write(ingest_root, "r.xml", JUNIT),
    }

    def counts() -> tuple[int, int]:
        with UnitOfWork(None, readonly=True) as uow:
            s = uow.session
            return (
                s.scalar(select(func.count()).select_from(Event)) or 0,
                s.scalar(select(func.count()).select_from(QuarantinedRecord)) or 0,
            )

    for source, name in files.items():
        ingest.ingest_file(actor=admin, source=source, path=name)
    ingest.ingest_git(actor=admin, path="shop")
    first = counts()
    again = [ingest.ingest_file(actor=admin, source=s, path=n) for s, n in files.items()]
    assert [r.inserted for r in again] == [0, 0, 0, 0]
    assert [r.duplicates for r in again] == [45, 1, 2, 1]
    assert [r.derived_duplicates for r in again] == [1, 0, 0, 1]  # the spike, the failed test
    assert counts() == first  # events and quarantine alike
    ingest.ingest_file(actor=south.actor(Role.ADMIN), source=EventSource.TRACES, path="s.jsonl")
    assert counts()[0] == first[0] + 2  # the same external ids are another tenant's own events
