"""Alert rules: fire once, stay quiet in the cool-down, recover; exactly once across workers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from domain.base import utcnow
from domain.enums import AlertState, ChannelKind, ReviewKind, ReviewStatus, Role
from services.errors import InvalidInput, PermissionDenied
from services.notify import alerts, channels, delivery
from services.notify.alert_metrics import METRICS, compute
from services.notify.alerts import AlertRuleCreate
from services.notify.channels import ChannelCreate
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration import notify_support as ns
from tests.integration import review_support as rs

Pair = tuple[TenantWithUsers, TenantWithUsers]


def _overdue_rule(north: TenantWithUsers, url: str) -> alerts.AlertRuleRead:
    admin = north.actor(Role.ADMIN)
    hook = channels.create_channel(
        actor=admin, channel_in=ChannelCreate(name="pager", kind=ChannelKind.WEBHOOK, target=url)
    )
    return alerts.create_rule(
        actor=admin,
        rule_in=AlertRuleCreate(
            name="Overdue reviews",
            metric="overdue_review_items",
            threshold=0,
            interval_s=60,
            cooldown_s=3600,
            channel_ids=[hook.id],
        ),
    )


def test_a_rule_fires_once_stays_quiet_in_cool_down_then_recovers(two_tenants: Pair) -> None:
    north, south = two_tenants
    with ns.receiver() as box:
        rule = _overdue_rule(north, box.url)
        item = rs.draft(north.tenant.id, ReviewKind.DEAL_PROPOSAL, rs.deal(north.tenant.id))
        t0 = utcnow()
        assert alerts.evaluate_due(now=t0) == 1  # nothing overdue yet
        rs.set_item(item.id, due_at=t0 - timedelta(minutes=1))
        south_item = rs.draft(south.tenant.id, ReviewKind.DEAL_PROPOSAL, rs.deal(south.tenant.id))
        rs.set_item(south_item.id, due_at=t0 - timedelta(minutes=1))  # not north's business
        assert alerts.evaluate_due(now=t0 + timedelta(seconds=30)) == 0  # interval not up
        alerts.evaluate_due(now=t0 + timedelta(seconds=60))
        [state] = alerts.list_rules(actor=north.actor(Role.ADMIN))
        assert state.state is AlertState.FIRING and state.last_value == 1
        alerts.evaluate_due(now=t0 + timedelta(seconds=120))  # still breached: quiet
        delivery.drain(worker_id="w1", now=t0 + timedelta(seconds=130))
        assert [b["type"] for b in box.bodies()] == ["alert.fired"]

        rs.set_item(item.id, status=ReviewStatus.EXPIRED)
        alerts.evaluate_due(now=t0 + timedelta(seconds=180))
        rs.set_item(item.id, status=ReviewStatus.PENDING)  # breached again within the cool-down
        alerts.evaluate_due(now=t0 + timedelta(seconds=240))
        delivery.drain(worker_id="w1", now=t0 + timedelta(seconds=250))
        assert [b["type"] for b in box.bodies()] == ["alert.fired", "alert.recovered"]
        assert "Overdue reviews" in box.bodies()[0]["data"]["subject"]

    history = alerts.list_firings(actor=north.actor(Role.ADMIN))
    assert [(f.kind, f.notified) for f in reversed(history)] == [
        ("fired", True),
        ("recovered", True),
        ("fired", False),  # held by the cool-down
    ]
    assert (
        rule.id == history[0].rule_id and alerts.list_firings(actor=south.actor(Role.ADMIN)) == []
    )


def test_three_workers_evaluate_a_due_rule_exactly_once(two_tenants: Pair) -> None:
    north, _ = two_tenants
    _overdue_rule(north, "http://127.0.0.1:9/unused")
    item = rs.draft(north.tenant.id, ReviewKind.DEAL_PROPOSAL, rs.deal(north.tenant.id))
    now = utcnow() + timedelta(seconds=1)
    rs.set_item(item.id, due_at=now - timedelta(minutes=5))
    counts: list[int] = []
    barrier = threading.Barrier(3)

    def work() -> None:
        barrier.wait()
        for _ in range(20):
            try:
                counts.append(alerts.evaluate_due(now=now))
                return
            except Exception:  # SQLite's single writer was busy: go again
                continue

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(counts) == [0, 0, 1]
    assert len(alerts.list_firings(actor=north.actor(Role.ADMIN))) == 1
    assert [m.event for m in ns.messages() if m.event.startswith("alert")] == ["alert.fired"]


def test_rules_refuse_unknown_metrics_nan_and_non_admins(two_tenants: Pair) -> None:
    north, _ = two_tenants
    admin = north.actor(Role.ADMIN)
    with pytest.raises(InvalidInput, match="Unknown metric"):
        alerts.create_rule(
            actor=admin, rule_in=AlertRuleCreate(name="x", metric="nope", threshold=1)
        )
    with pytest.raises(ValueError):
        AlertRuleCreate(name="x", metric="dead_runs", threshold=float("nan"))
    with pytest.raises(InvalidInput, match="channels"):
        alerts.create_rule(
            actor=admin,
            rule_in=AlertRuleCreate(name="x", metric="dead_runs", threshold=1, channel_ids=[999]),
        )
    with pytest.raises(PermissionDenied):
        alerts.list_rules(actor=north.actor(Role.REVIEWER))


def test_every_metric_computes_for_a_tenant_with_and_without_data(two_tenants: Pair) -> None:
    north, south = two_tenants
    item = rs.draft(north.tenant.id, ReviewKind.DEAL_PROPOSAL, rs.deal(north.tenant.id))
    now = utcnow()
    rs.set_item(item.id, due_at=now - timedelta(minutes=1), created_at=now - timedelta(hours=2))
    values = {}
    with UnitOfWork(None, readonly=True) as uow:
        for metric in METRICS:
            for tenant in (north, south):
                values[(metric, tenant.tenant.slug)] = compute(
                    uow.session,
                    tenant_id=tenant.tenant.id,
                    metric=metric,
                    agent="sdr" if metric == "agent_error_rate" else None,
                    window_min=60,
                    now=now,
                )
    assert values[("overdue_review_items", "north")] == 1
    assert values[("overdue_review_items", "south")] == 0
    assert 119 <= values[("oldest_pending_minutes", "north")] <= 121
    assert all(v == 0 for (metric, slug), v in values.items() if slug == "south")


def test_an_admin_edits_a_rule_and_switches_it_off_and_on(two_tenants: Pair) -> None:
    from services.errors import NotFound

    north, south = two_tenants
    admin = north.actor(Role.ADMIN)
    with ns.receiver() as box:
        rule = _overdue_rule(north, box.url)
        item = rs.draft(north.tenant.id, ReviewKind.DEAL_PROPOSAL, rs.deal(north.tenant.id))
        t0 = utcnow() + timedelta(minutes=5)
        rs.set_item(item.id, due_at=t0 - timedelta(hours=1))
        settings = AlertRuleCreate(
            **{**rule.model_dump(include=set(AlertRuleCreate.model_fields)), "threshold": 5}
        )
        edited = alerts.update_rule(actor=admin, rule_id=rule.id, rule_in=settings)
        assert edited.threshold == 5
        alerts.evaluate_due(now=t0)
        assert alerts.list_rules(actor=admin)[0].state is AlertState.OK  # 1 is not above 5

        back = settings.model_copy(update={"threshold": 0})
        alerts.update_rule(actor=admin, rule_id=rule.id, rule_in=back)
        alerts.evaluate_due(now=t0 + timedelta(minutes=2))
        assert alerts.list_rules(actor=admin)[0].state is AlertState.FIRING
        off = alerts.set_rule_active(actor=admin, rule_id=rule.id, active=False)
        assert (off.is_active, off.state, off.firing_since) == (False, AlertState.OK, None)
        assert alerts.evaluate_due(now=t0 + timedelta(hours=1)) == 0  # off: never evaluated
        alerts.set_rule_active(actor=admin, rule_id=rule.id, active=True)
        assert alerts.evaluate_due(now=t0 + timedelta(hours=1)) == 1

    with pytest.raises(NotFound):
        alerts.update_rule(actor=south.actor(Role.ADMIN), rule_id=rule.id, rule_in=settings)
    with pytest.raises(NotFound):
        alerts.set_rule_active(actor=south.actor(Role.ADMIN), rule_id=rule.id, active=False)
    with pytest.raises(PermissionDenied):
        alerts.set_rule_active(actor=north.actor(Role.REVIEWER), rule_id=rule.id, active=False)
    with UnitOfWork(None, readonly=True) as uow:
        from sqlalchemy import select

        from domain.models import AuditEntry

        actions = uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_type == "alert_rule")
        ).all()
    assert actions.count("alert.rule_updated") == 2
    assert {"alert.rule_switched_off", "alert.rule_switched_on"} <= set(actions)
