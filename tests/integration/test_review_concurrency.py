"""16 threads decide 500 items at random on PostgreSQL: nothing is lost, nothing runs twice."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from domain.base import utcnow
from domain.enums import ReasonCode, ReviewKind, ReviewStatus, Role
from domain.models import (
    AuditEntry,
    Deal,
    EmailMessage,
    Lead,
    NegotiationRound,
    ReviewItem,
    User,
)
from services import db, review
from services.actor import Actor
from services.errors import (
    Conflict,
    InvalidTransition,
    PermissionDenied,
    PolicyRefused,
    ServiceError,
)
from services.tenants import create_tenant_with_users
from services.uow import UnitOfWork
from tests.support.databases import clear_tables

pytestmark = pytest.mark.postgres
THREADS = 16
ITEMS = 500
SECONDS = 10.0


@pytest.fixture
def pg(postgres_url: str) -> Iterator[str]:
    db.configure(postgres_url)
    try:
        yield postgres_url
    finally:
        clear_tables(postgres_url)


def _setup() -> tuple[list[Actor], list[int]]:
    tenant = create_tenant_with_users(slug="load", name="Load Ltd", email_domain="load.test")
    tid = tenant.tenant.id
    now = utcnow()
    with UnitOfWork(None) as uow:
        s = uow.session
        extra = [
            User(
                tenant_id=tid,
                email=f"r{i}@load.test",
                display_name=f"Reviewer {i}",
                role=Role.REVIEWER,
            )
            for i in range(6)
        ]
        leads = [
            Lead(tenant_id=tid, email=f"l{i}@x.test", name=f"Lead {i}", company="X")
            for i in range(50)
        ]
        # One deal per proposal: executing a proposal moves its deal's price, and the review
        # rules hold a later proposal to the deal's price as it then is.
        deals = [
            Deal(tenant_id=tid, name=f"Deal {i}", amount=Decimal("60000")) for i in range(ITEMS)
        ]
        s.add_all([*extra, *leads, *deals])
        s.flush()
        rows = []
        for i in range(ITEMS):
            outreach = i % 2 == 0
            subject = leads[i % 50] if outreach else deals[i]
            payload = (
                {"subject": f"Hi {i}", "body": "Hello"}
                if outreach
                else {"amount": 60000 if i % 4 == 1 else 50000, "discount_pct": 5}
            )
            rows.append(
                ReviewItem(
                    tenant_id=tid,
                    kind=ReviewKind.OUTREACH_EMAIL if outreach else ReviewKind.DEAL_PROPOSAL,
                    subject_type="lead" if outreach else "deal",
                    subject_id=subject.id,
                    subject_label=f"item {i}",
                    payload=payload,
                    original_payload=payload,
                    amount=payload.get("amount"),
                    confidence=0.5,
                    due_at=now + timedelta(hours=1),
                    drafted_by="load",
                )
            )
        s.add_all(rows)
        uow.commit()
        actors = [tenant.actor(Role.ADMIN), tenant.actor(Role.REVIEWER), tenant.actor(Role.SALES)]
        actors += [
            Actor(user_id=u.id, tenant_id=tid, role=u.role, label=u.display_name) for u in extra
        ]
        return actors, [r.id for r in rows]


def _worker(
    actors: list[Actor], ids: list[int], deadline: float, log: list[tuple[int, int, str]], seed: int
) -> None:
    rng = random.Random(seed)
    hot = ids[:40]
    while time.monotonic() < deadline:
        actor = rng.choice(actors)
        item_id = rng.choice(hot) if rng.random() < 0.5 else rng.choice(ids)
        op = rng.choice(["approve", "approve", "approve", "reject", "claim", "release", "next"])
        try:
            if op == "next":
                got = review.next_item(actor=actor)
                if got:
                    log.append((got.id, actor.user_id, "claimed"))
                continue
            version = review.get_item(actor=actor, item_id=item_id).item.row_version
            if op == "approve":
                done = review.approve(actor=actor, item_id=item_id, seen_version=version)
                kind = "first_approval" if done.item.status is ReviewStatus.PENDING else "approved"
                log.append((item_id, actor.user_id, kind))
            elif op == "reject":
                review.reject(
                    actor=actor,
                    item_id=item_id,
                    seen_version=version,
                    reason_code=ReasonCode.DUPLICATE,
                )
                log.append((item_id, actor.user_id, "rejected"))
            elif op == "claim":
                review.claim(actor=actor, item_id=item_id)
                log.append((item_id, actor.user_id, "claimed"))
            else:
                review.release(actor=actor, item_id=item_id)
        except (Conflict, InvalidTransition, PolicyRefused, PermissionDenied):
            pass
        except ServiceError as exc:
            log.append((item_id, actor.user_id, f"unexpected: {exc.message}"))


def test_sixteen_threads_deciding_at_random_lose_nothing_and_execute_nothing_twice(pg: str) -> None:
    actors, ids = _setup()
    log: list[tuple[int, int, str]] = []
    deadline = time.monotonic() + SECONDS
    threads = [
        threading.Thread(target=_worker, args=(actors, ids, deadline, log, seed))
        for seed in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [entry for entry in log if entry[2].startswith("unexpected")]

    with UnitOfWork(None, readonly=True) as uow:
        s = uow.session
        items = {r.id: r for r in s.scalars(select(ReviewItem))}
        trail: dict[int, list[AuditEntry]] = defaultdict(list)
        for e in s.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == "review_item")
            .order_by(AuditEntry.id)
        ):
            trail[e.entity_id or 0].append(e)
        emails = Counter(s.scalars(select(EmailMessage.review_item_id)))
        rounds = Counter(s.scalars(select(NegotiationRound.review_item_id)))
        assert s.scalar(select(func.count()).select_from(EmailMessage)) == sum(emails.values())
        s.expunge_all()

    decided = [e for e in log if e[2] in {"approved", "rejected"}]
    print("review concurrency:", Counter(e[2] for e in log))
    assert len(decided) > 20, f"too little happened: {Counter(e[2] for e in log)}"
    assert len({e[0] for e in decided}) == len(decided), "an item was decided twice"
    for item_id, user_id, what in decided:
        actions = [(e.action, e.actor_id) for e in trail[item_id]]
        assert (f"review.{what}", user_id) in actions, (item_id, what, actions)

    for item_id, item in items.items():
        actions = Counter(e.action for e in trail[item_id])
        previous = "pending"
        for entry in trail[item_id]:
            assert (entry.before or {}).get("status", previous) == previous, (item_id, entry.action)
            previous = (entry.after or {}).get("status", previous)
        assert previous == item.status.value, (item_id, item.status, actions)
        executions = emails[item_id] + rounds[item_id]
        if item.status is ReviewStatus.EXECUTED:
            assert actions["review.approved"] == 1 and actions["review.executed"] == 1
            assert actions["review.rejected"] == 0 and executions == 1
        elif item.status is ReviewStatus.REJECTED:
            assert actions["review.rejected"] == 1 and actions["review.approved"] == 0
            assert executions == 0
        else:
            assert item.status is ReviewStatus.PENDING, (item_id, item.status)
            assert actions["review.approved"] == actions["review.rejected"] == 0
            assert executions == 0
            assert actions["review.first_approval"] == (1 if item.first_approver_id else 0)
