"""Unit of work, tenant scoping, optimistic locking, audit and settings, on both engines."""

from __future__ import annotations

import gc
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from domain.enums import ReviewStatus, Role
from domain.models import AuditEntry, Deal, ReviewItem, Tenant
from services import audit, auth, db, home
from services.errors import Conflict, NotFound, PermissionDenied
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.support import scenarios

Pair = tuple[TenantWithUsers, TenantWithUsers]


def test_unit_of_work_rolls_back_everything_when_the_call_fails(db_url: str) -> None:
    with pytest.raises(RuntimeError), UnitOfWork(None) as uow:
        uow.session.add(Tenant(slug="ghost", name="Ghost", settings={}))
        uow.session.flush()
        raise RuntimeError("boom after the first write")
    with UnitOfWork(None, readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Tenant)) == 0


def test_unit_of_work_without_commit_keeps_nothing(db_url: str) -> None:
    with UnitOfWork(None) as uow:
        uow.session.add(Tenant(slug="uncommitted", name="Uncommitted", settings={}))
    with UnitOfWork(None, readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Tenant)) == 0


def test_an_actor_never_sees_another_tenants_rows(two_tenants: Pair) -> None:
    north, south = two_tenants
    scenarios.add_review_item(north.tenant.id, status=ReviewStatus.PENDING)
    scenarios.add_review_item(south.tenant.id, status=ReviewStatus.PENDING)
    scenarios.add_review_item(south.tenant.id, status=ReviewStatus.REJECTED)

    with UnitOfWork(north.actor(Role.ADMIN), readonly=True) as uow:
        rows = uow.session.scalars(select(ReviewItem)).all()
        assert {r.tenant_id for r in rows} == {north.tenant.id}
        counted = uow.session.scalar(select(func.count(ReviewItem.id)))
        assert counted == 1


def test_an_actor_cannot_write_a_row_into_another_tenant(two_tenants: Pair) -> None:
    north, south = two_tenants
    with pytest.raises(PermissionDenied), UnitOfWork(north.actor(Role.ADMIN)) as uow:
        uow.session.add(
            Deal(tenant_id=south.tenant.id, name="Poach", amount=Decimal("1"), currency="EUR")
        )
        uow.commit()
    with UnitOfWork(None, readonly=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Deal)) == 0


def test_new_rows_take_the_actors_tenant_when_none_is_given(two_tenants: Pair) -> None:
    north, _ = two_tenants
    with UnitOfWork(north.actor(Role.SALES)) as uow:
        deal = Deal(name="Inferred tenant", amount=Decimal("10.00"), currency="EUR")
        uow.session.add(deal)
        uow.commit()
    assert deal.tenant_id == north.tenant.id


def test_every_reconfigured_session_factory_keeps_the_tenant_scoping(
    two_tenants: Pair, db_url: str
) -> None:
    north, south = two_tenants
    with UnitOfWork(south.actor(Role.SALES)) as uow:
        uow.session.add(Deal(name="Theirs", amount=Decimal("5.00"), currency="EUR"))
        uow.commit()
    # Collected factories free their addresses; new ones reuse them (SQLAlchemy's event
    # registry keys on id(), so "already hooked?" must not be asked of it).
    for _ in range(30):
        db.configure(db_url)
        gc.collect()
        with UnitOfWork(north.actor(Role.SALES)) as uow:
            assert uow.session.scalars(select(Deal.name)).all() == []
            uow.session.add(Deal(name="Ours", amount=Decimal("1.00"), currency="EUR"))
            uow.session.flush()
            assert uow.session.scalars(select(Deal.tenant_id)).all() == [north.tenant.id]


def test_writing_a_row_someone_else_changed_meanwhile_is_a_conflict(two_tenants: Pair) -> None:
    north, _ = two_tenants
    actor = north.actor(Role.SALES)
    with UnitOfWork(actor) as uow:
        deal = Deal(name="Robot arms", amount=Decimal("1000.00"), currency="EUR")
        uow.session.add(deal)
        uow.commit()
        deal_id = deal.id

    with (
        pytest.raises(Conflict, match="Someone else changed this record"),
        UnitOfWork(actor) as uow,
    ):
        loaded = uow.session.get(Deal, deal_id)
        assert loaded is not None and loaded.row_version == 1
        # Another writer bumps the row between our read and our write.
        uow.session.execute(
            text("UPDATE deals SET amount = 900, row_version = row_version + 1 WHERE id = :id"),
            {"id": deal_id},
        )
        loaded.amount = Decimal("800.00")
        uow.commit()

    with UnitOfWork(actor, readonly=True) as uow:
        final = uow.session.get(Deal, deal_id)
        assert final is not None and final.amount == Decimal("1000.00") and final.row_version == 1


def test_home_overview_counts_only_the_actors_tenant(two_tenants: Pair) -> None:
    north, south = two_tenants
    scenarios.add_review_item(north.tenant.id, status=ReviewStatus.PENDING, overdue=True)
    scenarios.add_review_item(north.tenant.id, status=ReviewStatus.PENDING)
    scenarios.add_review_item(north.tenant.id, status=ReviewStatus.APPROVED)
    scenarios.add_review_item(south.tenant.id, status=ReviewStatus.PENDING, overdue=True)

    overview = home.get_overview(actor=north.actor(Role.VIEWER))
    counts = {c.status: c.count for c in overview.review_items}
    assert counts["pending"] == 2 and counts["approved"] == 1 and counts["rejected"] == 0
    assert [c.status for c in overview.review_items] == [s.value for s in ReviewStatus]
    assert overview.overdue_reviews == 1


def test_audit_entries_are_written_in_the_same_transaction_and_scoped(two_tenants: Pair) -> None:
    north, south = two_tenants
    trail = audit.list_for_entity(
        actor=north.actor(Role.VIEWER), entity_type="tenant", entity_id=north.tenant.id
    )
    assert [e.action for e in trail] == ["tenant.created"]
    assert trail[0].after and trail[0].after["slug"] == "north"
    assert (
        audit.list_for_entity(
            actor=south.actor(Role.ADMIN), entity_type="tenant", entity_id=north.tenant.id
        )
        == []
    )


def test_a_failed_call_leaves_no_audit_entry_behind(two_tenants: Pair) -> None:
    north, _ = two_tenants
    actor = north.actor(Role.ADMIN)
    with pytest.raises(RuntimeError), UnitOfWork(actor) as uow:
        audit.record(uow, action="deal.created", entity_type="deal", entity_id=None)
        uow.session.flush()
        raise RuntimeError("the change itself failed")
    with UnitOfWork(None, readonly=True) as uow:
        actions = uow.session.scalars(select(AuditEntry.action)).all()
        assert "deal.created" not in actions


def test_demo_sign_in_is_refused_unless_demo_mode_is_on(two_tenants: Pair) -> None:
    north, _ = two_tenants
    with pytest.raises(PermissionDenied, match="Demo sign-in is turned off"):
        auth.demo_sign_in(user_id=north.users[Role.REVIEWER].id)
    assert auth.demo_mode_refusal(server_address="127.0.0.1") is not None


@pytest.mark.usefixtures("demo_auth")
def test_demo_sign_in_returns_the_users_actor(two_tenants: Pair) -> None:
    north, _ = two_tenants
    user = auth.demo_sign_in(user_id=north.users[Role.FINANCE].id)
    assert user.actor.tenant_id == north.tenant.id and user.actor.role is Role.FINANCE
    assert user.tenant_name == "North Ltd"
    assert len(auth.list_demo_users()) == 2 * len(Role)
    assert auth.demo_mode_refusal(server_address="127.0.0.1") is None
    assert "loopback" in (auth.demo_mode_refusal(server_address="0.0.0.0") or "")
    with pytest.raises(NotFound):
        auth.demo_sign_in(user_id=987654)


def test_sqlite_connections_use_wal_foreign_keys_busy_timeout_and_normal_sync(
    sqlite_url: str,
) -> None:
    with db.get_engine(sqlite_url).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
