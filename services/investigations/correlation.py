"""Correlation you can inspect: ranked candidates with reasons, and the decisions on them.

Every candidate sits in exactly one place: suggested (ranked, whether a rule stored it as a
suggestion or the ranking found it), accepted, or rejected; a rejected event is never suggested
again. How a score is made up is in ``scoring``; what it is measured against (the onset, the
services in reach, the deploy chains, what the tenant's decisions taught) is in ``context``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from domain.base import utcnow
from domain.enums import EventSeverity, EventSource, LinkStatus
from domain.models import Event, EventLink, Investigation
from services import audit
from services.actor import Actor
from services.errors import Conflict
from services.investigations import candidates, signals
from services.investigations.scoring import Context, score
from services.permissions import Action, require
from services.uow import UnitOfWork


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
    stored: bool = False  # a rule or the seed stored it as a suggestion


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


class CandidateBoard(BaseModel):
    """Every candidate of an investigation, each in exactly one list, best first."""

    scope: list[str]
    onset: datetime | None
    onset_what: str
    notes: list[str]
    changes: list[Suggestion]
    signals: list[Suggestion]
    accepted: list[LinkRead]
    rejected: list[LinkRead]


def _investigation(uow: UnitOfWork, investigation_id: int) -> Investigation:
    row = uow.get(
        Investigation, investigation_id, missing=f"There is no investigation #{investigation_id}."
    )
    return row


def _ranked(rows: list[Event], ctx: Context, *, limit: int, keep: set[int]) -> list[Suggestion]:
    seen: set[int] = set()
    out: list[Suggestion] = []
    for row in rows:
        if row.id in seen:
            continue
        seen.add(row.id)
        points, reasons, rule = score(row, ctx)
        out.append(
            Suggestion(
                event=EventSummary.model_validate(row),
                score=points,
                reasons=reasons,
                rule=rule,
                stored=row.id in ctx.stored,
            )
        )
    out.sort(key=lambda s: (-s.score, -s.event.occurred_at.timestamp(), -s.event.id))
    # Stored suggestions are never cut off by the limit: a rule put them there for a reason.
    return [s for i, s in enumerate(out) if i < limit or s.event.id in keep]


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
    with UnitOfWork(actor, readonly=True) as uow:
        inv = _investigation(uow, investigation_id)
        found = candidates.find(
            uow.session,
            inv,
            changes_before=before,
            signals_before=before,
            after=after,
            min_severity=min_severity,
            widen=False,
        )
        return _ranked([*found.changes, *found.signals], found.ctx, limit=limit, keep=set())


def suspect_changes(
    *, actor: Actor, investigation_id: int, before: timedelta = timedelta(hours=24), limit: int = 10
) -> list[Suggestion]:
    """Commits and deploys of the services in reach before the symptoms, most suspect first."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    with UnitOfWork(actor, readonly=True) as uow:
        inv = _investigation(uow, investigation_id)
        found = candidates.find(
            uow.session,
            inv,
            changes_before=before,
            signals_before=None,
            after=timedelta(0),
            min_severity=EventSeverity.INFO,
            widen=True,
        )
        return _ranked(found.changes, found.ctx, limit=limit, keep=set())


def board(
    *,
    actor: Actor,
    investigation_id: int,
    changes_before: timedelta = timedelta(hours=24),
    signals_before: timedelta = timedelta(hours=6),
    after: timedelta = timedelta(minutes=30),
    min_severity: EventSeverity = EventSeverity.INFO,
    limit: int = 25,
) -> CandidateBoard:
    """Every candidate, each in one place: suggested changes and signals, accepted, rejected."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    with UnitOfWork(actor, readonly=True) as uow:
        inv = _investigation(uow, investigation_id)
        found = candidates.find(
            uow.session,
            inv,
            changes_before=changes_before,
            signals_before=signals_before,
            after=after,
            min_severity=min_severity,
            widen=True,
        )
        ctx, stored = found.ctx, candidates.stored_suggestions(uow.session, inv)
        keep = {e.id for e in stored}
        stored_changes = [e for e in stored if signals.is_change(e)]
        stored_signals = [e for e in stored if not signals.is_change(e)]
        changes = _ranked([*found.changes, *stored_changes], ctx, limit=limit, keep=keep)
        shown = {s.event.id for s in changes}
        rest = [e for e in [*found.signals, *stored_signals] if e.id not in shown]
        decided = _links(uow, inv, None)
        by_score = sorted(decided, key=lambda link: (-(link.score or 0), link.event.occurred_at))
        return CandidateBoard(
            scope=sorted(ctx.scope),
            onset=ctx.onset,
            onset_what=ctx.onset_what,
            notes=found.notes,
            changes=changes,
            signals=_ranked(rest, ctx, limit=limit, keep=keep),
            accepted=[x for x in by_score if x.status is LinkStatus.ACCEPTED],
            rejected=[x for x in by_score if x.status is LinkStatus.REJECTED],
        )


def _score_one(
    uow: UnitOfWork, inv: Investigation, event: Event, before: timedelta, after: timedelta
) -> tuple[float, list[str], str]:
    """The score the board showed for this event (same window, same context)."""
    found = candidates.find(
        uow.session,
        inv,
        changes_before=before,
        signals_before=None,
        after=max(after, event.occurred_at - inv.detected_at),
        min_severity=EventSeverity.INFO,
        widen=True,
    )
    return score(event, found.ctx)


def decide(
    *,
    actor: Actor,
    investigation_id: int,
    event_id: int,
    accept: bool,
    note: str | None = None,
    before: timedelta = timedelta(hours=24),
    after: timedelta = timedelta(minutes=30),
) -> LinkRead:
    """Accept or reject an event for an investigation (scored here, not by the caller)."""
    require(actor, Action.EDIT_INVESTIGATION)
    with UnitOfWork(actor) as uow:
        inv = _investigation(uow, investigation_id)
        event = uow.get(Event, event_id, missing=f"There is no event #{event_id}.")
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
        points, reasons, rule = _score_one(uow, inv, event, before, after)
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
        reasons=[str(r) for r in link.reasons or []],
        decided_by_id=link.decided_by_id,
        decided_at=link.decided_at,
        note=link.note,
    )


def _links(uow: UnitOfWork, inv: Investigation, status: LinkStatus | None) -> list[LinkRead]:
    q = select(EventLink, Event).join(Event, Event.id == EventLink.event_id)
    q = q.where(EventLink.investigation_id == inv.id)
    if status is not None:
        q = q.where(EventLink.status == status)
    rows = uow.session.execute(q.order_by(Event.occurred_at, Event.id)).all()
    return [_link_read(link, event) for link, event in rows]


def links(
    *, actor: Actor, investigation_id: int, status: LinkStatus | None = LinkStatus.ACCEPTED
) -> list[LinkRead]:
    """The events linked to an investigation (accepted by default), in time order."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    with UnitOfWork(actor, readonly=True) as uow:
        return _links(uow, _investigation(uow, investigation_id), status)
