"""Correlation you can inspect: scored suggestions with reasons, suspect changes, decisions.

A score adds up named parts, each with the reason shown to the person deciding: the event is
from the affected service (or one it depends on), how long before detection it happened, it is
a deploy or commit of the service, it is the onset of an error spike or a metric anomaly, and
its severity. Accepted and rejected events are linked to the investigation; a rejected event is
never suggested again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select

from domain.base import utcnow
from domain.enums import EventSeverity, EventSource, LinkStatus
from domain.models import Event, EventLink, Investigation
from services import audit
from services.actor import Actor
from services.errors import Conflict, NotFound
from services.investigations import dependencies
from services.permissions import Action, require
from services.uow import UnitOfWork

CHANGE_TYPES = ("commit", "merge", "deploy", "build")
CANDIDATE_CAP = 1_000
CHANGES_CAP = 300
SEVERITY_RANK = {s: i for i, s in enumerate(reversed(list(EventSeverity)))}
SEVERITY_POINTS = {
    EventSeverity.CRITICAL: 0.10,
    EventSeverity.HIGH: 0.07,
    EventSeverity.MEDIUM: 0.04,
}


class EventSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    source: EventSource
    type: str
    occurred_at: datetime
    severity: EventSeverity
    service: str | None
    title: str


class Suggestion(BaseModel):
    event: EventSummary
    score: float
    reasons: list[str]
    rule: str


class LinkRead(BaseModel):
    id: int
    event: EventSummary
    status: LinkStatus
    rule: str | None
    score: float | None
    reasons: list[str]
    decided_by_id: int | None
    decided_at: datetime | None
    note: str | None


def _minutes(delta: timedelta) -> str:
    minutes = round(abs(delta.total_seconds()) / 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 120 else f"{minutes} minutes"


def score(
    event: Event, *, service: str | None, deps: list[str], detected: datetime, before: timedelta
) -> tuple[float, list[str], str]:
    """The event's score for an investigation, the reasons that make it up, and the rule."""
    points, reasons = 0.0, []
    files = event.data.get("files", []) if event.source is EventSource.GIT else []
    touches = bool(service) and any(str(f).startswith(f"{service}/") for f in files)
    if service and (event.service == service or touches):
        points += 0.30
        reasons.append(
            f"same service ({service})" if event.service == service else f"touches {service}/ files"
        )
    elif event.service in deps:
        points += 0.15
        reasons.append(f"{service} depends on {event.service}")
    gap = detected - event.occurred_at
    if gap >= timedelta(0):
        points += 0.25 * max(0.0, 1 - gap / before)
        reasons.append(f"{_minutes(gap)} before detection")
    else:
        points += 0.05
        reasons.append(f"{_minutes(gap)} after detection")
    change = event.type in CHANGE_TYPES and event.source in (EventSource.GIT, EventSource.CI)
    if event.type == "deploy":
        points += 0.25
        status = event.data.get("status")
        reasons.append(f"deploy of {event.service}" + (f" ({status})" if status else ""))
        if status == "failed":
            points += 0.05
    elif change:
        points += 0.15
        reasons.append(f"{event.type} touching {event.service or 'the code'}")
    elif event.type == "error_spike":
        points += 0.20
        reasons.append(
            f"error spike onset ({event.data.get('errors_at_onset', '?')} errors/min "
            f"vs baseline {event.data.get('baseline_per_minute', '?')})"
        )
    elif event.type == "metric_anomaly":
        points += 0.15
        reasons.append(f"{event.data.get('metric', 'metric')} outside its normal band")
    elif event.type in ("span_failed", "test_failure", "log_error"):
        points += 0.05
        reasons.append(event.type.replace("_", " "))
    if event.severity in SEVERITY_POINTS:
        points += SEVERITY_POINTS[event.severity]
        reasons.append(f"severity {event.severity.value}")
    return round(min(points, 1.0), 3), reasons, ("suspect_change" if change else "correlation")


def _investigation(uow: UnitOfWork, investigation_id: int) -> Investigation:
    row = uow.session.get(Investigation, investigation_id)
    if row is None or uow.actor is None or row.tenant_id != uow.actor.tenant_id:
        raise NotFound(f"There is no investigation #{investigation_id}.")
    return row


def _ranked(
    actor: Actor,
    investigation_id: int,
    *,
    before: timedelta,
    after: timedelta,
    changes_only: bool,
    min_severity: EventSeverity,
    limit: int,
) -> list[Suggestion]:
    with UnitOfWork(actor, readonly=True) as uow:
        inv = _investigation(uow, investigation_id)
        deps = dependencies.of(uow.session, service=inv.service) if inv.service else []
        where: list[Any] = [
            Event.tenant_id == actor.tenant_id,
            Event.occurred_at >= inv.detected_at - before,
            Event.occurred_at <= inv.detected_at + after,
        ]
        if inv.service:
            where.append(
                or_(Event.service.in_([inv.service, *deps]), Event.source == EventSource.GIT)
            )
        if changes_only:
            where += [
                Event.source.in_([EventSource.GIT, EventSource.CI]),
                Event.type.in_(CHANGE_TYPES),
            ]
        allowed = [s for s in EventSeverity if SEVERITY_RANK[s] >= SEVERITY_RANK[min_severity]]
        where.append(Event.severity.in_(allowed))
        if not inv.service and not changes_only:
            # Without an affected service every event of the tenant is a candidate; keep the
            # ones that can carry a signal (a change, a spike, an anomaly, or some severity).
            where.append(
                or_(
                    Event.type.in_([*CHANGE_TYPES, "error_spike", "metric_anomaly"]),
                    Event.severity.in_(SEVERITY_POINTS),
                )
            )
        linked = select(EventLink.event_id).where(EventLink.investigation_id == inv.id)
        where.append(Event.id.not_in(linked))
        cap = CHANGES_CAP if changes_only else CANDIDATE_CAP
        # The nearest candidates on each side of detection, so a burst after it cannot crowd
        # out the changes before it.
        before_rows = uow.session.scalars(
            select(Event)
            .where(*where, Event.occurred_at <= inv.detected_at)
            .order_by(Event.occurred_at.desc())
            .limit(cap)
        ).all()
        after_rows = uow.session.scalars(
            select(Event)
            .where(*where, Event.occurred_at > inv.detected_at)
            .order_by(Event.occurred_at)
            .limit(cap // 4)
        ).all()
        rows = [*before_rows, *after_rows]
        out = []
        for row in rows:
            points, reasons, rule = score(
                row, service=inv.service, deps=deps, detected=inv.detected_at, before=before
            )
            if inv.service and not any(
                r.startswith(("same service", "touches", inv.service)) for r in reasons
            ):
                continue  # a commit of another service
            out.append(
                Suggestion(
                    event=EventSummary.model_validate(row), score=points, reasons=reasons, rule=rule
                )
            )
    out.sort(key=lambda s: (-s.score, -s.event.occurred_at.timestamp()))
    return out[:limit]


def suggest(
    *,
    actor: Actor,
    investigation_id: int,
    before: timedelta = timedelta(hours=6),
    after: timedelta = timedelta(minutes=30),
    min_severity: EventSeverity = EventSeverity.INFO,
    limit: int = 25,
) -> list[Suggestion]:
    """Events likely related to the investigation, best first, each with score and reasons."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    return _ranked(
        actor,
        investigation_id,
        before=before,
        after=after,
        changes_only=False,
        min_severity=min_severity,
        limit=limit,
    )


def suspect_changes(
    *, actor: Actor, investigation_id: int, before: timedelta = timedelta(hours=24), limit: int = 10
) -> list[Suggestion]:
    """Commits and deploys of the affected services before detection, most suspect first."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    return _ranked(
        actor,
        investigation_id,
        before=before,
        after=timedelta(0),
        changes_only=True,
        min_severity=EventSeverity.INFO,
        limit=limit,
    )


def decide(
    *,
    actor: Actor,
    investigation_id: int,
    event_id: int,
    accept: bool,
    note: str | None = None,
    before: timedelta = timedelta(hours=24),
) -> LinkRead:
    """Accept or reject an event for an investigation (scored here, not by the caller)."""
    require(actor, Action.EDIT_INVESTIGATION)
    with UnitOfWork(actor) as uow:
        inv = _investigation(uow, investigation_id)
        event = uow.session.get(Event, event_id)
        if event is None or event.tenant_id != actor.tenant_id:
            raise NotFound(f"There is no event #{event_id}.")
        existing = uow.session.scalar(
            select(EventLink).where(
                EventLink.investigation_id == inv.id, EventLink.event_id == event_id
            )
        )
        if existing is not None and existing.status is not LinkStatus.SUGGESTED:
            raise Conflict(
                f"Event #{event_id} was already {existing.status.value} for this investigation."
            )
        # Deciding may overwrite a suggested link: the audit keeps what it said before.
        was = (
            audit.snapshot(existing, ["event_id", "status", "score", "reasons", "rule"])
            if existing is not None
            else None
        )
        deps = dependencies.of(uow.session, service=inv.service) if inv.service else []
        points, reasons, rule = score(
            event, service=inv.service, deps=deps, detected=inv.detected_at, before=before
        )
        link = existing or EventLink(
            tenant_id=actor.tenant_id,
            investigation_id=inv.id,
            event_id=event_id,
            linked_by_id=actor.user_id,
        )
        link.rule, link.score, link.reasons = rule, points, reasons
        link.status = LinkStatus.ACCEPTED if accept else LinkStatus.REJECTED
        link.decided_by_id, link.decided_at, link.note = actor.user_id, utcnow(), note
        uow.session.add(link)
        uow.session.flush()
        audit.record(
            uow,
            action=f"investigation.event_{link.status.value}",
            entity_type="investigation",
            entity_id=inv.id,
            after={"event_id": event_id, "score": points, "reasons": reasons, "rule": rule},
            before=was,
            reason=note,
        )
        uow.commit()
        return _link_read(link, event)


def _link_read(link: EventLink, event: Event) -> LinkRead:
    return LinkRead(
        id=link.id,
        event=EventSummary.model_validate(event),
        status=link.status,
        rule=link.rule,
        score=link.score,
        reasons=list(link.reasons),
        decided_by_id=link.decided_by_id,
        decided_at=link.decided_at,
        note=link.note,
    )


def links(
    *, actor: Actor, investigation_id: int, status: LinkStatus | None = LinkStatus.ACCEPTED
) -> list[LinkRead]:
    """The events linked to an investigation (accepted by default), in time order."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    with UnitOfWork(actor, readonly=True) as uow:
        inv = _investigation(uow, investigation_id)
        q = select(EventLink, Event).join(Event, Event.id == EventLink.event_id)
        q = q.where(EventLink.investigation_id == inv.id)
        if status is not None:
            q = q.where(EventLink.status == status)
        rows = uow.session.execute(q.order_by(Event.occurred_at, Event.id)).all()
        return [_link_read(link, event) for link, event in rows]
