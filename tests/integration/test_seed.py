"""Demo and bulk seeding, on both engines."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.dialects import sqlite

from domain.base import Base, UTCDateTime, utcnow
from domain.enums import (
    AgentName,
    EventSource,
    LLMOutcome,
    ReviewKind,
    ReviewStatus,
    Role,
    RunStatus,
    RunTrigger,
)
from domain.models import (
    AgentRun,
    AuditEntry,
    Event,
    EventLink,
    Investigation,
    Invoice,
    Lead,
    LLMCall,
    Prompt,
    ReviewItem,
    Tenant,
    User,
)
from services.errors import Conflict
from services.review import expire_overdue
from services.seed import bulk, demo
from services.seed.bulk import seed_bulk, timestamps
from services.seed.demo import seed_demo
from services.uow import UnitOfWork
from tests.support.databases import clear_tables

PAYLOAD_KEYS = {
    ReviewKind.OUTREACH_EMAIL: {"to", "subject", "body"},
    ReviewKind.DEAL_PROPOSAL: {"deal_id", "amount", "discount_pct", "currency", "terms_summary"},
    ReviewKind.COUNTER_OFFER: {"deal_id", "amount", "discount_pct", "rationale"},
    ReviewKind.CONTRACT: {"contract_id", "summary"},
    ReviewKind.DUNNING_NOTICE: {
        "invoice_id",
        "invoice_number",
        "amount_due",
        "days_overdue",
        "level",
        "to",
        "subject",
        "body",
    },
    ReviewKind.RCA_HYPOTHESIS: {"investigation_id", "hypothesis", "cited_event_ids", "confidence"},
}
SMALL = {"review_items": 1_300, "runs": 700, "llm_calls": 2_100, "events": 1_100}


def _count(model: type[Base], *where: Any) -> int:
    with UnitOfWork(None, readonly=True) as uow:
        query = select(func.count()).select_from(model).where(*where)
        return int(uow.session.scalar(query) or 0)


def _all(model: type[Any], *where: Any) -> list[Any]:
    with UnitOfWork(None, readonly=True) as uow:
        rows = list(uow.session.scalars(select(model).where(*where)))
        uow.session.expunge_all()  # keep the loaded values after the unit of work closes
        return rows


def _tenant_id(slug: str) -> int:
    with UnitOfWork(None, readonly=True) as uow:
        tenant_id = uow.session.scalar(select(Tenant.id).where(Tenant.slug == slug))
        assert tenant_id is not None
        return tenant_id


def test_demo_seed_creates_two_tenants_with_one_user_per_role(db_url: str) -> None:
    seed_demo()
    tenants = {t.slug: t for t in _all(Tenant)}
    assert set(tenants) == {"acme", "globex"}
    assert tenants["acme"].name == "Acme Robotics"
    for slug, tenant in tenants.items():
        users = _all(User, User.tenant_id == tenant.id)
        assert sorted(u.role for u in users) == sorted(Role)
        assert {u.email for u in users} == {f"{r.value}@{slug}.test" for r in Role}
        assert all(" " in u.display_name and u.is_active for u in users)
        created = _all(AuditEntry, AuditEntry.tenant_id == tenant.id)
        assert [(a.action, a.entity_id) for a in created] == [("tenant.created", tenant.id)]


def test_demo_seed_writes_roughly_the_promised_amount_of_data(db_url: str) -> None:
    report = seed_demo()
    for slug in ("acme", "globex"):
        tid = _tenant_id(slug)
        assert _count(Lead, Lead.tenant_id == tid) == 200
        assert 5 <= _count(Lead, Lead.tenant_id == tid, Lead.do_not_contact.is_(True)) <= 10
        assert _count(Invoice, Invoice.tenant_id == tid) == 80
        assert 300 <= _count(AgentRun, AgentRun.tenant_id == tid) <= 500
        runs = _count(AgentRun, AgentRun.tenant_id == tid)
        assert runs <= _count(LLMCall, LLMCall.tenant_id == tid) <= 3 * runs
        items = _count(ReviewItem, ReviewItem.tenant_id == tid)
        pending = _count(
            ReviewItem, ReviewItem.tenant_id == tid, ReviewItem.status == ReviewStatus.PENDING
        )
        assert 130 <= items <= 170 and pending > items / 2
        assert _count(Investigation, Investigation.tenant_id == tid) == 8
        assert _count(Event, Event.tenant_id == tid) >= 150
        assert _count(EventLink, EventLink.tenant_id == tid) >= 8
    assert report.tenants == 2 and report.users == 12
    assert report.review_items == _count(ReviewItem)
    assert report.total_rows > 3_000


def test_demo_seed_creates_every_review_status_and_kind(db_url: str) -> None:
    seed_demo()
    for slug in ("acme", "globex"):
        items = _all(ReviewItem, ReviewItem.tenant_id == _tenant_id(slug))
        assert {i.status for i in items} == set(ReviewStatus)
        assert {i.kind for i in items} == set(ReviewKind) - {ReviewKind.ACTION}


def test_demo_review_items_carry_typed_payloads_and_consistent_decisions(db_url: str) -> None:
    seed_demo()
    now = utcnow()
    runs = {r.id: r for r in _all(AgentRun)}
    items = _all(ReviewItem)
    for item in items:
        assert set(item.payload) == PAYLOAD_KEYS[item.kind], item.kind
        assert set(item.original_payload) == PAYLOAD_KEYS[item.kind]
        assert item.search_text == item.search_text.lower()
        assert item.subject_label.lower() in item.search_text
        assert 0 <= item.confidence <= 1 and 0 <= item.priority <= 3
        assert item.due_at.tzinfo is not None and item.due_at > item.created_at
        run = runs[item.run_id]
        assert run.tenant_id == item.tenant_id and run.agent.value == item.drafted_by
        if item.status in {ReviewStatus.PENDING, ReviewStatus.EXPIRED}:
            assert item.decided_by_id is None and item.edited_payload is None
            assert item.payload == item.original_payload
        else:
            assert item.decided_by_id is not None and item.decided_at is not None
            assert item.decided_by_id != item.triggered_by_id
        if item.status == ReviewStatus.REJECTED:
            assert item.reason_code is not None
        if item.kind in {ReviewKind.DEAL_PROPOSAL, ReviewKind.DUNNING_NOTICE}:
            assert item.amount is not None and item.amount > 0
    pending = [i for i in items if i.status == ReviewStatus.PENDING]
    assert any(i.due_at < now for i in pending), "some pending items should be overdue"
    assert any(i.due_at > now for i in pending), "and some still within their SLA"
    assert any(i.edited_payload is not None for i in items)


def test_demo_seed_covers_every_agent_run_status_and_event_source(db_url: str) -> None:
    seed_demo()
    runs = _all(AgentRun)
    assert {r.agent for r in runs} == set(AgentName)
    expected_statuses = set(RunStatus)
    assert {r.status for r in runs} == expected_statuses
    assert {e.source for e in _all(Event)} == set(EventSource)
    calls = _all(LLMCall)
    outcomes = Counter(c.outcome for c in calls)
    assert outcomes[LLMOutcome.OK] > len(calls) * 0.7
    for outcome in (LLMOutcome.REPAIRED, LLMOutcome.INVALID, LLMOutcome.TIMEOUT):
        assert outcomes[outcome] > 0, outcome
    assert all(c.validation_errors for c in calls if c.outcome == LLMOutcome.INVALID)
    assert all(len(c.prompt_hash) == 64 for c in calls)
    for tenant in _all(Tenant):
        prompts = _all(Prompt, Prompt.tenant_id == tenant.id)
        active = Counter(p.key for p in prompts if p.is_active)
        assert set(active.values()) == {1} and set(active) == {p.key for p in prompts}


def test_demo_seed_twice_raises_conflict_and_changes_nothing(db_url: str) -> None:
    seed_demo()
    before = {m.__tablename__: _count(m) for m in (Tenant, User, ReviewItem, Event, AuditEntry)}
    with pytest.raises(Conflict, match="already present"):
        seed_demo()
    after = {m.__tablename__: _count(m) for m in (Tenant, User, ReviewItem, Event, AuditEntry)}
    assert after == before


def test_demo_seed_that_fails_half_way_leaves_nothing_behind(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("mail server exploded")

    monkeypatch.setattr(demo, "seed_emails", broken)
    with pytest.raises(RuntimeError):
        seed_demo()
    assert _count(Tenant) == 0 and _count(Lead) == 0 and _count(AuditEntry) == 0


def test_demo_seed_is_repeatable_for_the_same_clock(db_url: str) -> None:
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    def snapshot() -> list[tuple[Any, ...]]:
        items = sorted(_all(ReviewItem), key=lambda i: i.id)
        return [(i.kind, i.status, i.subject_label, i.payload, i.created_at) for i in items]

    seed_demo(now=now)
    first = snapshot()
    clear_tables(db_url)
    seed_demo(now=now)
    assert snapshot() == first
    assert all(created <= now for *_, created in first)


def test_bulk_timestamps_match_how_sqlalchemy_stores_datetimes_on_sqlite() -> None:
    dialect = sqlite.dialect()
    bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert bind is not None
    sqlite_ts, postgres_ts = timestamps(""), timestamps("+00:00")
    for epoch in (0.0, 1_700_000_000.5, 1_798_761_599.999999, 1_767_225_600.000001):
        expected = bind(datetime.fromtimestamp(epoch, UTC))
        assert sqlite_ts(epoch) == expected
        assert datetime.fromisoformat(postgres_ts(epoch)) == datetime.fromtimestamp(epoch, UTC)


def test_bulk_seed_inserts_exactly_the_requested_numbers(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "CHUNK", 500)  # several chunks per table
    seen: list[tuple[str, int, int]] = []
    report = seed_bulk(**SMALL, progress=lambda t, done, total: seen.append((t, done, total)))
    tid = _tenant_id("bench")
    assert report.tenant_id == tid and report.total_rows == sum(SMALL.values())
    assert _count(ReviewItem, ReviewItem.tenant_id == tid) == SMALL["review_items"]
    assert _count(AgentRun, AgentRun.tenant_id == tid) == SMALL["runs"]
    assert _count(LLMCall, LLMCall.tenant_id == tid) == SMALL["llm_calls"]
    assert _count(Event, Event.tenant_id == tid) == SMALL["events"]
    assert sorted(u.role for u in _all(User, User.tenant_id == tid)) == sorted(Role)
    assert ("review_items", 500, 1_300) in seen and ("review_items", 1_300, 1_300) in seen
    assert report.rows_per_s > 0


def test_bulk_rows_read_back_as_valid_model_values(db_url: str) -> None:
    seed_bulk(**SMALL)
    now = utcnow()
    window = (now - timedelta(days=91), now)
    items = _all(ReviewItem)
    assert {i.kind for i in items} == set(ReviewKind) - {ReviewKind.ACTION}
    assert {i.status for i in items} == set(ReviewStatus)
    pending = [i for i in items if i.status == ReviewStatus.PENDING]
    assert 0.02 * len(items) < len(pending) < 0.1 * len(items)  # the last 7 days' 60 %
    # Nothing pending is past its expiry: the worker's sweep finds nothing left to expire.
    assert all(i.expires_at is not None and i.expires_at > now for i in pending)
    assert expire_overdue(now=now) == 0
    assert all(window[0] <= i.created_at <= window[1] for i in items)
    assert all(set(i.payload) == PAYLOAD_KEYS[i.kind] for i in items)
    runs = {r.id: r for r in _all(AgentRun)}
    assert {r.agent for r in runs.values()} == set(AgentName)
    assert all(runs[i.run_id].agent.value == i.drafted_by for i in items if i.run_id)
    calls = _all(LLMCall)
    assert all(c.run_id in runs and window[0] <= c.created_at <= window[1] for c in calls)
    events = _all(Event)
    assert {e.source for e in events} == set(EventSource)
    assert len({e.service for e in events}) == 50
    # Raw-written timestamps compare correctly with ORM-bound ones (SQLite compares strings).
    recent = _count(ReviewItem, ReviewItem.created_at >= now - timedelta(days=45))
    assert 0.4 * len(items) < recent < 0.6 * len(items)
    for item in items[:25]:
        assert _count(ReviewItem, ReviewItem.created_at == item.created_at) == 1
        assert _count(ReviewItem, ReviewItem.due_at == item.due_at) >= 1


def test_bulk_seed_can_run_twice_on_the_same_tenant(db_url: str) -> None:
    first = seed_bulk(**SMALL)
    first_runs = {r.id for r in _all(AgentRun)}
    first_calls = {c.id for c in _all(LLMCall)}
    second = seed_bulk(**SMALL)
    assert first.tenant_id == second.tenant_id
    assert _count(Tenant) == 1 and _count(User) == len(Role)
    assert _count(AgentRun) == 2 * SMALL["runs"]
    assert _count(LLMCall) == 2 * SMALL["llm_calls"]
    assert _count(ReviewItem) == 2 * SMALL["review_items"]
    assert _count(Event) == 2 * SMALL["events"]
    second_runs = {r.id for r in _all(AgentRun)} - first_runs
    new_calls = [c for c in _all(LLMCall) if c.id not in first_calls]
    assert {c.run_id for c in new_calls} <= second_runs


def test_bulk_seed_leaves_metric_rollups_complete_and_their_triggers_installed(
    db_url: str,
) -> None:
    seed_bulk(review_items=40, runs=30, llm_calls=60, events=0)
    with UnitOfWork(None, readonly=True) as uow:
        s = uow.session
        rolled_runs = s.execute(text("SELECT sum(runs) FROM metric_run_days")).scalar()
        rolled_calls = s.execute(text("SELECT sum(calls) FROM metric_call_days")).scalar()
        rolled_reviews = s.execute(text("SELECT sum(n) FROM metric_review_days")).scalar()
    assert (rolled_runs, rolled_calls, rolled_reviews) == (30, 60, 40)
    # The triggers are back: a run written the ordinary way is rolled up too.
    with UnitOfWork(None) as uow:
        tenant_id = uow.session.scalar(select(AgentRun.tenant_id).limit(1))
        uow.session.add(
            AgentRun(
                tenant_id=tenant_id,
                agent=AgentName.SDR,
                trigger=RunTrigger.MANUAL,
                subject_type="lead",
                subject_id=1,
                idempotency_key="after-bulk",
                status=RunStatus.QUEUED,
            )
        )
        uow.commit()
    with UnitOfWork(None, readonly=True) as uow:
        assert uow.session.execute(text("SELECT sum(runs) FROM metric_run_days")).scalar() == 31
