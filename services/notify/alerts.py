"""Admins' alert rules: a threshold on a metric, evaluated by the workers exactly once per
interval (due rules are locked ``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's writers
queue), alerting once on a breach, quiet during the cool-down, and sending a recovery."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.base import utcnow
from domain.enums import AlertState
from domain.models import AlertFiring, AlertRule, NotifyChannel
from services import audit, db
from services.actor import Actor
from services.errors import InvalidInput
from services.notify import outbox
from services.notify.alert_metrics import METRICS, compute
from services.permissions import Action, require
from services.uow import UnitOfWork

SEVERITIES = ("critical", "high", "medium", "low")
BATCH = 200


class AlertRuleCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    metric: str
    agent: str | None = Field(default=None, max_length=32)
    threshold: float = Field(allow_inf_nan=False, ge=-1e12, le=1e12)
    window_minutes: int = Field(default=15, ge=1, le=60 * 24 * 30)
    interval_s: int = Field(default=60, ge=10, le=86_400)
    severity: str = "high"
    channel_ids: list[int] = Field(default_factory=list, max_length=20)
    cooldown_s: int = Field(default=900, ge=0, le=7 * 86_400)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value or "\x00" in value:
            raise ValueError("must be non-empty text without NUL characters")
        return value


class AlertRuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    metric: str
    agent: str | None
    threshold: float
    window_minutes: int
    interval_s: int
    severity: str
    channel_ids: list[int]
    cooldown_s: int
    is_active: bool
    state: AlertState
    firing_since: datetime | None
    last_value: float | None
    last_evaluated_at: datetime | None


class AlertFiringRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rule_id: int
    kind: str
    value: float
    notified: bool
    at: datetime


def _check(uow: UnitOfWork, rule_in: AlertRuleCreate) -> None:
    if rule_in.metric not in METRICS:
        raise InvalidInput(f"Unknown metric; choose one of {', '.join(METRICS)}.")
    if rule_in.severity not in SEVERITIES:
        raise InvalidInput(f"Severity must be one of {', '.join(SEVERITIES)}.")
    known = set(uow.session.scalars(select(NotifyChannel.id)).all())
    if set(rule_in.channel_ids) - known:
        raise InvalidInput("One of the chosen channels does not exist.")


def _rule(uow: UnitOfWork, actor: Actor, rule_id: int) -> AlertRule:
    rule = uow.get(AlertRule, rule_id, missing=f"Alert rule #{rule_id} does not exist.")
    return rule


def _settings(rule: AlertRule) -> dict[str, object]:
    return {name: getattr(rule, name) for name in AlertRuleCreate.model_fields}


def create_rule(*, actor: Actor, rule_in: AlertRuleCreate) -> AlertRuleRead:
    """Add an alert rule (first evaluated on the next worker tick)."""
    require(actor, Action.MANAGE_ALERTS)
    now = utcnow()
    with UnitOfWork(actor) as uow:
        _check(uow, rule_in)
        rule = AlertRule(
            tenant_id=actor.tenant_id,
            **rule_in.model_dump(),
            is_active=True,
            state=AlertState.OK,
            next_evaluation_at=now,
            created_at=now,
        )
        uow.session.add(rule)
        uow.session.flush()
        audit.record(
            uow,
            action="alert.rule_created",
            entity_type="alert_rule",
            entity_id=rule.id,
            after=rule_in.model_dump(),
        )
        uow.commit()
        return AlertRuleRead.model_validate(rule)


def update_rule(*, actor: Actor, rule_id: int, rule_in: AlertRuleCreate) -> AlertRuleRead:
    """Change a rule's settings (evaluated afresh on the next tick; its state is kept)."""
    require(actor, Action.MANAGE_ALERTS)
    with UnitOfWork(actor) as uow:
        rule = _rule(uow, actor, rule_id)
        _check(uow, rule_in)
        before = _settings(rule)
        after = rule_in.model_dump()
        for name, value in after.items():
            setattr(rule, name, value)
        rule.next_evaluation_at = utcnow()
        changed = {k: v for k, v in after.items() if before[k] != v}
        if changed:
            audit.record(
                uow,
                action="alert.rule_updated",
                entity_type="alert_rule",
                entity_id=rule.id,
                before={k: before[k] for k in changed},
                after=changed,
            )
        uow.commit()
        return AlertRuleRead.model_validate(rule)


def set_rule_active(*, actor: Actor, rule_id: int, active: bool) -> AlertRuleRead:
    """Switch a rule on or off; a rule switched off while firing goes back to ok, silently."""
    require(actor, Action.MANAGE_ALERTS)
    with UnitOfWork(actor) as uow:
        rule = _rule(uow, actor, rule_id)
        before = {"is_active": rule.is_active, "state": rule.state.value}
        rule.is_active = active
        if not active:
            rule.state, rule.firing_since = AlertState.OK, None
        else:
            rule.next_evaluation_at = utcnow()
        audit.record(
            uow,
            action="alert.rule_switched_on" if active else "alert.rule_switched_off",
            entity_type="alert_rule",
            entity_id=rule.id,
            before=before,
            after={"is_active": active, "state": rule.state.value},
        )
        uow.commit()
        return AlertRuleRead.model_validate(rule)


def list_rules(*, actor: Actor) -> list[AlertRuleRead]:
    """The tenant's rules with their state."""
    require(actor, Action.MANAGE_ALERTS)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.scalars(select(AlertRule).order_by(AlertRule.name)).all()
        return [AlertRuleRead.model_validate(r) for r in rows]


def list_firings(*, actor: Actor, limit: int = 100) -> list[AlertFiringRead]:
    """The tenant's latest firings and recoveries, newest first."""
    require(actor, Action.MANAGE_ALERTS)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.scalars(
            select(AlertFiring).order_by(AlertFiring.id.desc()).limit(max(1, min(limit, 500)))
        ).all()
        return [AlertFiringRead.model_validate(r) for r in rows]


def evaluate_due(*, now: datetime) -> int:
    """Evaluate every rule whose interval has come round (system work); returns rules evaluated."""
    with UnitOfWork(None) as uow:
        session = uow.session
        query = (
            select(AlertRule)
            .where(AlertRule.is_active.is_(True), AlertRule.next_evaluation_at <= now)
            .order_by(AlertRule.next_evaluation_at)
            .limit(BATCH)
        )
        rules = session.scalars(db.row_locked(query, session, skip_locked=True)).all()
        for rule in rules:
            _evaluate(uow, rule, now)
        uow.commit()
        return len(rules)


def _evaluate(uow: UnitOfWork, rule: AlertRule, now: datetime) -> None:
    session = uow.session
    value = compute(
        session,
        tenant_id=rule.tenant_id,
        metric=rule.metric,
        agent=rule.agent,
        window_min=rule.window_minutes,
        now=now,
    )
    rule.last_value = value
    rule.last_evaluated_at = now
    rule.next_evaluation_at = now + timedelta(seconds=rule.interval_s)
    breached = value > rule.threshold
    if breached and rule.state is AlertState.OK:
        cooled = rule.last_alerted_at is None or now - rule.last_alerted_at >= timedelta(
            seconds=rule.cooldown_s
        )
        rule.state, rule.firing_since = AlertState.FIRING, now
        _history(session, rule, "fired", value, notified=cooled, now=now)
        if cooled:
            rule.last_alerted_at = now
            _notify(session, rule, "fired", value, now)
    elif not breached and rule.state is AlertState.FIRING:
        was_alerted = rule.last_alerted_at is not None and rule.firing_since is not None
        notified = was_alerted and rule.last_alerted_at >= rule.firing_since  # type: ignore[operator]
        rule.state, rule.firing_since = AlertState.OK, None
        _history(session, rule, "recovered", value, notified=notified, now=now)
        if notified:
            _notify(session, rule, "recovered", value, now)


def _history(
    session: Session, rule: AlertRule, kind: str, value: float, *, notified: bool, now: datetime
) -> None:
    session.add(
        AlertFiring(
            tenant_id=rule.tenant_id,
            rule_id=rule.id,
            kind=kind,
            value=value,
            notified=notified,
            at=now,
        )
    )


def _notify(session: Session, rule: AlertRule, kind: str, value: float, now: datetime) -> None:
    what = "FIRING" if kind == "fired" else "recovered"
    subject = f"[{rule.severity}] {rule.name} {what}: {rule.metric} = {value:g}"
    body = (
        f"Rule {rule.name!r}: {rule.metric} over the last {rule.window_minutes} min is {value:g} "
        f"(threshold {rule.threshold:g})."
    )
    for channel_id in rule.channel_ids:
        outbox.enqueue(
            session,
            tenant_id=rule.tenant_id,
            dedupe_key=f"alert:{rule.id}:{kind}:{now.isoformat()}:{channel_id}",
            event=f"alert.{kind}",
            subject=subject,
            body=body,
            channel_id=int(channel_id),
            payload={"rule_id": rule.id, "metric": rule.metric, "value": value},
            now=now,
        )
