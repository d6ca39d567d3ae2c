"""Drill-down into one run, the recent-runs table and its CSV export, retry and cancel."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pandas as pd
import pytest
from sqlalchemy import select

from domain.enums import AgentName, Role, RunStatus
from domain.models import AgentRun, AuditEntry
from services import runs
from services.errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from services.metrics import drilldown
from services.metrics.drilldown import runs_csv
from services.metrics.filters import build_filter
from services.spreadsheet import neutralise, neutralise_frame
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.metrics_data import DAY1, END, RAW_FAILED, Dataset, seed_metrics

Pair = tuple[TenantWithUsers, TenantWithUsers]
Seeded = tuple[TenantWithUsers, TenantWithUsers, Dataset]


@pytest.fixture
def seeded(two_tenants: Pair) -> Iterator[Seeded]:
    north, south = two_tenants
    yield north, south, seed_metrics(north, south)


def test_recent_runs_are_newest_first_and_follow_the_filter(seeded: Seeded) -> None:
    north, _, data = seeded
    f = build_filter(start=DAY1, end=END)
    rows = drilldown.list_recent_runs(actor=north.actor(Role.VIEWER), filters=f)
    assert [r.id for r in rows] == [data.runs[n] for n in ("r6", "r5", "r4", "r3", "r2", "r1")]
    dead = drilldown.list_recent_runs(
        actor=north.actor(Role.VIEWER), filters=build_filter(start=DAY1, end=END, status="dead")
    )
    assert [(r.id, r.status, r.error) for r in dead] == [
        (data.runs["r4"], "dead", "model timed out")
    ]


def test_run_detail_lists_its_llm_calls_and_review_decisions(seeded: Seeded) -> None:
    north, _, data = seeded
    detail = drilldown.get_run_detail(actor=north.actor(Role.VIEWER), run_id=data.runs["r2"])
    assert detail.run.agent == "sdr" and detail.run.attempts == 2
    assert [(c.id, c.prompt_version, c.outcome) for c in detail.calls] == [
        (data.calls["c2"], 2, "repaired"),
        (data.calls["c3"], 2, "invalid"),
    ]
    repaired, invalid = detail.calls
    assert repaired.raw_output is None  # only failed calls carry their raw output
    assert invalid.raw_output == RAW_FAILED and invalid.reasks == 2 and invalid.attempts == 3
    assert [(i.id, i.status, i.reason_code, i.edit_distance) for i in detail.review_items] == [
        (data.items["i2"], "executed", None, 12),
        (data.items["i3"], "rejected", "tone", None),
    ]
    names = north.users[Role.REVIEWER].display_name, north.users[Role.SDR].display_name
    assert tuple(i.decided_by for i in detail.review_items) == names


def test_run_detail_of_another_tenants_run_is_not_found(seeded: Seeded) -> None:
    _, south, data = seeded
    with pytest.raises(NotFound):
        drilldown.get_run_detail(actor=south.actor(Role.ADMIN), run_id=data.runs["r2"])


def test_csv_export_neutralises_cells_a_spreadsheet_would_run(seeded: Seeded) -> None:
    north, _, data = seeded
    with UnitOfWork(None) as uow:
        run = uow.session.get(AgentRun, data.runs["r3"])
        assert run is not None
        run.error = '=cmd|" /C calc"!A0'
        uow.commit()
    text = drilldown.export_recent_runs_csv(
        actor=north.actor(Role.VIEWER), filters=build_filter(start=DAY1, end=END)
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[data.runs["r3"]]["error"] == '\'=cmd|" /C calc"!A0'
    assert by_id[data.runs["r4"]]["error"] == "model timed out"


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@now", "'@now"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain = fine", "plain = fine"),
        (None, ""),
        (42, "42"),
    ],
)
def test_a_cell_starting_with_a_formula_character_gets_a_leading_apostrophe(
    raw: object, safe: str
) -> None:
    assert neutralise(raw) == safe


def test_csv_of_no_rows_is_just_the_header() -> None:
    assert runs_csv([]).strip() == ",".join(drilldown.CSV_COLUMNS)


def _audits(run_id: int) -> list[str]:
    with UnitOfWork(None, readonly=True) as uow:
        return list(
            uow.session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.entity_type == "agent_run", AuditEntry.entity_id == run_id
                )
            )
        )


def test_admin_retries_a_failed_run_and_the_retry_is_audited(seeded: Seeded) -> None:
    north, _, data = seeded
    run = runs.retry(actor=north.actor(Role.ADMIN), run_id=data.runs["r3"])
    assert run.status is RunStatus.RETRYING
    with UnitOfWork(None, readonly=True) as uow:
        stored = uow.session.get(AgentRun, data.runs["r3"])
        assert stored is not None and stored.next_attempt_at is not None
    assert _audits(data.runs["r3"]) == ["run.retried"]


def test_a_dead_run_gets_one_more_attempt_when_retried(seeded: Seeded) -> None:
    north, _, data = seeded
    run = runs.retry(actor=north.actor(Role.ADMIN), run_id=data.runs["r4"])
    assert (run.status, run.attempts, run.max_attempts) == (RunStatus.RETRYING, 3, 4)


def test_admin_cancels_a_queued_run_but_not_a_succeeded_one(seeded: Seeded) -> None:
    north, _, data = seeded
    admin = north.actor(Role.ADMIN)
    assert runs.cancel(actor=admin, run_id=data.runs["r6"]).status is RunStatus.CANCELLED
    assert _audits(data.runs["r6"]) == ["run.cancelled"]
    with pytest.raises(InvalidTransition, match="only queued, retrying or running"):
        runs.cancel(actor=admin, run_id=data.runs["r1"])
    with pytest.raises(InvalidTransition, match="only failed or dead"):
        runs.retry(actor=admin, run_id=data.runs["r1"])
    assert _audits(data.runs["r1"]) == []


@pytest.mark.parametrize("role", [Role.VIEWER, Role.REVIEWER, Role.SALES, Role.FINANCE])
def test_roles_that_may_not_run_the_agent_may_not_retry_or_cancel_its_runs(
    seeded: Seeded, role: Role
) -> None:
    north, _, data = seeded
    with pytest.raises(PermissionDenied):
        runs.retry(actor=north.actor(role), run_id=data.runs["r3"])
    with pytest.raises(PermissionDenied):
        runs.cancel(actor=north.actor(role), run_id=data.runs["r6"])
    with UnitOfWork(None, readonly=True) as uow:
        stored = uow.session.get(AgentRun, data.runs["r6"])
        assert stored is not None and stored.status is RunStatus.QUEUED


def test_sdr_staff_retry_and_cancel_their_own_agents_runs(seeded: Seeded) -> None:
    north, _, data = seeded
    sdr = north.actor(Role.SDR)
    assert runs.retry(actor=sdr, run_id=data.runs["r3"]).status is RunStatus.RETRYING
    assert runs.cancel(actor=sdr, run_id=data.runs["r6"]).status is RunStatus.CANCELLED
    with pytest.raises(PermissionDenied):
        runs.retry(actor=sdr, run_id=data.runs["r4"])  # a finance run


def test_retry_with_a_stale_version_is_a_conflict(seeded: Seeded) -> None:
    north, _, data = seeded
    admin = north.actor(Role.ADMIN)
    row = drilldown.get_run_detail(actor=admin, run_id=data.runs["r3"]).run
    runs.retry(actor=admin, run_id=row.id, expected_version=row.row_version)
    with pytest.raises(Conflict):
        runs.cancel(actor=admin, run_id=row.id, expected_version=row.row_version)


def test_another_tenants_run_cannot_be_retried(seeded: Seeded) -> None:
    _, south, data = seeded
    with pytest.raises(NotFound):
        runs.retry(actor=south.actor(Role.ADMIN), run_id=data.runs["r3"])


def test_status_helpers_say_which_buttons_apply_to_whom(seeded: Seeded) -> None:
    north, _, _ = seeded
    admin, sdr, viewer = (north.actor(r) for r in (Role.ADMIN, Role.SDR, Role.VIEWER))
    A, S = AgentName, RunStatus
    assert runs.can_retry(actor=admin, agent=A.FINANCE, status=S.DEAD)
    assert runs.can_retry(actor=sdr, agent=A.SDR, status=S.FAILED)
    assert not runs.can_retry(actor=sdr, agent=A.FINANCE, status=S.DEAD)
    assert not runs.can_retry(actor=admin, agent=A.SDR, status=S.QUEUED)
    assert runs.can_cancel(actor=admin, agent=A.SDR, status=S.RUNNING)
    assert not runs.can_cancel(actor=admin, agent=A.SDR, status=S.SUCCEEDED)
    assert not runs.can_cancel(actor=viewer, agent=A.SDR, status=S.QUEUED)


def test_on_screen_tables_neutralise_text_cells_but_keep_numbers_and_times() -> None:
    frame = pd.DataFrame(
        {
            "error": ['=HYPERLINK("http://x.test")', "fine", None, "-rm"],
            "delta": [-5, 3, 0, -1],
            "at": pd.to_datetime(["2026-11-01"] * 4),
        }
    )
    safe = neutralise_frame(frame)
    cells = safe["error"].tolist()
    assert cells[:2] + cells[3:] == ['\'=HYPERLINK("http://x.test")', "fine", "'-rm"]
    assert pd.isna(cells[2])
    assert safe["delta"].tolist() == [-5, 3, 0, -1] and safe["at"].equals(frame["at"])
    assert frame["error"][0].startswith("=")  # the caller's frame is left alone
