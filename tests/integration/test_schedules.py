"""Scheduled runs: cron and time zones, firing with the catch-up rule, and exactly-once firing
with three workers at every occurrence (clocks passed in, worker steps driven in-process)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from domain.enums import AgentName, InvoiceStatus, Role, RunTrigger
from domain.models import AgentRun, AuditEntry, Invoice, Schedule, ScheduleFiring
from services import db, schedule_firing, schedules
from services.errors import Conflict, InvalidInput, PermissionDenied
from services.schedules import ScheduleCreate, ScheduleSelection, ScheduleUpdate
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests import agent_data

Pair = tuple[TenantWithUsers, TenantWithUsers]
THU_0500 = datetime(2026, 3, 26, 5, 0, tzinfo=UTC)  # 06:00 in Berlin (CET, before DST)


def _invoice(tenant_id: int, number: str, due: date, status: InvoiceStatus) -> int:
    row = Invoice(
        number=number,
        customer_name="Acme GmbH",
        customer_email="ap@acme.test",
        amount=Decimal("100.00"),
        currency="EUR",
        due_date=due,
        status=status,
    )
    return agent_data.add(tenant_id, row)[0]


def _dunning(
    pair: Pair, *, cron: str = "0 7 * * 1-5", now: datetime = THU_0500, days: int = 7
) -> schedules.ScheduleRead:
    schedule_in = ScheduleCreate(
        name="Dunning",
        agent=AgentName.FINANCE,
        cron=cron,
        timezone="Europe/Berlin",
        selection=ScheduleSelection(overdue_days=days),
    )
    return schedules.create_schedule(
        actor=pair[0].actor(Role.ADMIN), schedule_in=schedule_in, now=now
    )


def _runs() -> list[AgentRun]:
    with db.session_factory()() as session:
        return list(session.scalars(select(AgentRun).order_by(AgentRun.id)))


def test_weekday_0700_berlin_stays_at_0700_local_across_the_dst_change(two_tenants: Pair) -> None:
    created = _dunning(two_tenants)
    assert created.next_fire_at == datetime(2026, 3, 26, 6, 0, tzinfo=UTC)  # 07:00 CET
    friday_evening = datetime(2026, 3, 27, 18, 0, tzinfo=UTC)
    # Monday 07:00 in Berlin is 05:00 UTC once summer time began on Sunday 29 March.
    assert schedules.next_after(created.cron, "Europe/Berlin", friday_evening) == datetime(
        2026, 3, 30, 5, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("cron", "tz", "message"),
    [
        ("0 7 * *", "UTC", "five-field"),
        ("0 7 * * 1-5 2026", "UTC", "five-field"),
        ("61 7 * * *", "UTC", "not a valid cron"),
        ("0 7 31 2 *", "UTC", "not a valid cron"),
        ("0 7 * * *", "Mars/Olympus", "not an IANA time zone"),
        ("0 7 * * *", "Europe/Berlin\x00", "not an IANA time zone"),
        ("0 7 * * *", "../../etc/passwd", "not an IANA time zone"),
        ("<b>0</b> 7 * * *", "UTC", "not a valid cron"),
    ],
)
def test_a_bad_cron_or_time_zone_is_refused_with_a_clear_message(
    two_tenants: Pair, cron: str, tz: str, message: str
) -> None:
    schedule_in = ScheduleCreate(name="x", agent=AgentName.FINANCE, cron=cron, timezone=tz)
    with pytest.raises(InvalidInput, match=message):
        schedules.create_schedule(
            actor=two_tenants[0].actor(Role.ADMIN), schedule_in=schedule_in, now=THU_0500
        )
    assert schedules.list_schedules(actor=two_tenants[0].actor(Role.ADMIN)) == []


def test_out_of_range_selection_and_unknown_fields_are_invalid_input() -> None:
    for values in ({"overdue_days": -1}, {"limit": 10**9}, {"surprise": 1}):
        with pytest.raises(InvalidInput, match="selection"):
            schedules.build(
                ScheduleCreate, name="x", agent="finance", cron="* * * * *", selection=values
            )


def test_only_admins_manage_schedules(two_tenants: Pair) -> None:
    for role in (Role.FINANCE, Role.REVIEWER, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            schedules.list_schedules(actor=two_tenants[0].actor(role))


def test_an_occurrence_queues_schedule_runs_once_for_the_selected_invoices_only(
    two_tenants: Pair,
) -> None:
    north, south = two_tenants
    old = _invoice(north.tenant.id, "INV-1", date(2026, 3, 1), InvoiceStatus.OVERDUE)
    _invoice(north.tenant.id, "INV-2", date(2026, 3, 24), InvoiceStatus.ISSUED)  # 2 days: too new
    _invoice(north.tenant.id, "INV-3", date(2026, 3, 1), InvoiceStatus.PAID)
    _invoice(south.tenant.id, "INV-1", date(2026, 3, 1), InvoiceStatus.OVERDUE)  # other tenant
    created = _dunning(two_tenants)
    assert created.next_fire_at is not None
    assert (
        schedule_firing.fire_due(
            now=created.next_fire_at - timedelta(seconds=1), worker_id="w"
        ).fired
        == 0
    )
    first = schedule_firing.fire_due(now=created.next_fire_at, worker_id="w")
    again = schedule_firing.fire_due(now=created.next_fire_at, worker_id="w")
    assert (first.fired, first.runs, first.skipped, again.fired) == (1, 1, 0, 0)
    [run] = _runs()
    assert (run.subject_id, run.trigger, run.agent) == (old, RunTrigger.SCHEDULE, AgentName.FINANCE)
    assert run.triggered_by_id == north.users[Role.ADMIN].id and run.tenant_id == north.tenant.id
    [row] = schedules.list_schedules(actor=north.actor(Role.ADMIN))
    assert row.next_fire_at == datetime(2026, 3, 27, 6, 0, tzinfo=UTC)  # Friday 07:00 CET
    with db.session_factory()() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["schedule.created", "schedule.fired"]


def test_after_downtime_only_the_latest_missed_occurrence_fires_and_older_ones_are_counted(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    _invoice(north.tenant.id, "INV-1", date(2026, 3, 1), InvoiceStatus.OVERDUE)
    created = _dunning(two_tenants)  # due Thu 26 March 06:00 UTC
    back = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)  # a week later, Thursday noon
    result = schedule_firing.fire_due(now=back, worker_id="w")
    # Missed: Thu 26, Fri 27, Mon 30, Tue 31, Wed 1, Thu 2 (07:00 Berlin); only Thu 2 fires.
    assert (result.fired, result.skipped, result.runs) == (1, 5, 1)
    [firing] = schedules.list_firings(actor=north.actor(Role.ADMIN), schedule_id=created.id)
    assert firing.occurrence_at == datetime(2026, 4, 2, 5, 0, tzinfo=UTC) and firing.skipped == 5


def test_a_disabled_schedule_never_fires_and_re_enabling_starts_after_now(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    admin = north.actor(Role.ADMIN)
    _invoice(north.tenant.id, "INV-1", date(2026, 3, 1), InvoiceStatus.OVERDUE)
    created = _dunning(two_tenants)
    off = ScheduleUpdate(
        cron=created.cron,
        timezone=created.timezone,
        selection=ScheduleSelection(overdue_days=7),
        enabled=False,
    )
    changed = schedules.update_schedule(
        actor=admin,
        schedule_id=created.id,
        schedule_in=off,
        expected_version=created.row_version,
        now=THU_0500,
    )
    later = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    assert schedule_firing.fire_due(now=later, worker_id="w").fired == 0
    on = off.model_copy(update={"enabled": True})
    with pytest.raises(Conflict, match="changed since you loaded it"):
        schedules.update_schedule(
            actor=admin,
            schedule_id=created.id,
            schedule_in=on,
            expected_version=created.row_version,
            now=later,
        )
    back = schedules.update_schedule(
        actor=admin,
        schedule_id=created.id,
        schedule_in=on,
        expected_version=changed.row_version,
        now=later,
    )
    assert back.next_fire_at == datetime(2026, 4, 1, 5, 0, tzinfo=UTC)  # Wed 07:00 CEST
    assert _runs() == []


def test_three_workers_fire_each_of_fifty_occurrences_exactly_once(two_tenants: Pair) -> None:
    north = two_tenants[0]
    for n in range(2):
        _invoice(north.tenant.id, f"INV-{n}", date(2026, 3, 1), InvoiceStatus.OVERDUE)
    start = datetime(2026, 3, 26, 5, 0, tzinfo=UTC)
    created = _dunning(two_tenants, cron="* * * * *", now=start - timedelta(seconds=30))
    assert created.next_fire_at == start
    workers, occurrences = 3, 50
    gate = threading.Barrier(workers)
    results: dict[str, list[schedule_firing.FireResult]] = {f"w{i}": [] for i in range(workers)}
    errors: list[BaseException] = []

    def work(wid: str) -> None:
        try:
            for i in range(occurrences):
                gate.wait(timeout=30)  # all three see occurrence i due at the same moment
                now = start + timedelta(minutes=i, seconds=5)
                results[wid].append(schedule_firing.fire_due(now=now, worker_id=wid))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            gate.abort()

    began = time.perf_counter()
    threads = [threading.Thread(target=work, args=(w,)) for w in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.perf_counter() - began
    assert not errors, errors
    fired = {w: sum(r.fired for r in rs) for w, rs in results.items()}
    lost = sum(r.lost for rs in results.values() for r in rs)
    with db.session_factory()() as session:
        firings = session.scalars(select(ScheduleFiring.occurrence_at)).all()
        runs = session.scalar(select(func.count()).select_from(AgentRun))
        keys = session.scalar(select(func.count(func.distinct(AgentRun.idempotency_key))))
        audited = session.scalar(select(func.count()).where(AuditEntry.action == "schedule.fired"))
    print(
        f"\nschedule exactly-once ({db.current_engine().dialect.name}): {workers} workers, "
        f"{occurrences} occurrences, firings {len(firings)}, runs {runs}, fired per worker "
        f"{fired}, lost on the unique key {lost}, {elapsed:.2f}s"
    )
    assert sorted(firings) == [start + timedelta(minutes=i) for i in range(occurrences)]
    assert sum(fired.values()) == occurrences == audited and runs == keys == 2 * occurrences


def test_an_occurrence_already_fired_is_lost_on_the_unique_key_and_the_schedule_moves_on(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    _invoice(north.tenant.id, "INV-1", date(2026, 3, 1), InvoiceStatus.OVERDUE)
    created = _dunning(two_tenants)
    assert created.next_fire_at is not None
    at = created.next_fire_at
    assert schedule_firing.fire_due(now=at, worker_id="w1").fired == 1
    # A worker that read the schedule before the first one committed sees it still due:
    # put next_fire_at back as that stale read would have it.
    with UnitOfWork(None) as uow:
        uow.session.execute(
            update(Schedule).where(Schedule.id == created.id).values(next_fire_at=at)
        )
        uow.commit()
    late = schedule_firing.fire_due(now=at, worker_id="w2")
    assert (late.fired, late.lost, late.runs) == (0, 1, 0)
    assert len(_runs()) == 1
    [row] = schedules.list_schedules(actor=north.actor(Role.ADMIN))
    assert row.next_fire_at is not None and row.next_fire_at > at  # not stuck on the old one
    assert schedule_firing.fire_due(now=at, worker_id="w3").lost == 0
