"""Finding the events worth scoring for an investigation (inside a unit of work).

Changes are read over a wider range than they are shown, so that each deploy can be followed back
to the previous deploy of its service and environment; the look-back for changes widens (24 h,
then 3 days, 9 days, up to 14) while no change of the services in reach fits before the onset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from domain.enums import EventSeverity, EventSource, LinkStatus
from domain.models import Event, EventLink, Investigation
from services.investigations import context, signals
from services.investigations.scoring import Context, ago, in_scope

CHAIN_SLACK = timedelta(days=3)  # how far before the shown range a previous deploy is looked for
CHANGES_CAP = 2_000
SIGNALS_CAP = 1_000
MAX_LOOKBACK = timedelta(days=14)
SEVERITY_RANK = {s: i for i, s in enumerate(reversed(list(EventSeverity)))}
SIGNAL_SEVERITIES = (EventSeverity.MEDIUM, EventSeverity.HIGH, EventSeverity.CRITICAL)


@dataclass
class Found:
    ctx: Context
    changes: list[Event]
    signals: list[Event]
    notes: list[str]


def _decided(inv: Investigation) -> Any:
    return select(EventLink.event_id).where(
        EventLink.investigation_id == inv.id, EventLink.status != LinkStatus.SUGGESTED
    )


def _changes(
    session: Session, inv: Investigation, start: datetime, anchor: datetime, end: datetime
) -> list[Event]:
    """Changes from ``start`` to ``end``, the nearest to the onset first kept on either side."""
    where = [
        Event.tenant_id == inv.tenant_id,
        Event.source.in_([EventSource.GIT, EventSource.CI]),
        Event.type.in_(signals.CHANGE_TYPES),
    ]
    before = session.scalars(
        select(Event)
        .where(*where, Event.occurred_at >= start, Event.occurred_at <= anchor)
        .order_by(Event.occurred_at.desc())
        .limit(CHANGES_CAP)
    ).all()
    after = session.scalars(
        select(Event)
        .where(*where, Event.occurred_at > anchor, Event.occurred_at <= end)
        .order_by(Event.occurred_at)
        .limit(CHANGES_CAP // 3)
    ).all()
    return [*before, *after]


def _signals(
    session: Session,
    inv: Investigation,
    ctx: Context,
    *,
    start: datetime,
    end: datetime,
    min_severity: EventSeverity,
) -> list[Event]:
    allowed = [s for s in EventSeverity if SEVERITY_RANK[s] >= SEVERITY_RANK[min_severity]]
    where: list[Any] = [
        Event.tenant_id == inv.tenant_id,
        Event.occurred_at >= start,
        Event.occurred_at <= end,
        Event.severity.in_(allowed),
        Event.id.not_in(_decided(inv)),
        or_(Event.source.not_in([EventSource.GIT, EventSource.CI]),
            Event.type.not_in(signals.CHANGE_TYPES)),
    ]  # fmt: skip
    if ctx.scope:
        where.append(Event.service.in_(list(ctx.scope)))
    else:
        # Without any service in reach every event of the tenant is a candidate; keep the ones
        # that can carry a signal (a spike, an anomaly, or some severity).
        where.append(
            or_(Event.type.in_(signals.SYMPTOM_TYPES), Event.severity.in_(SIGNAL_SEVERITIES))
        )
    # The nearest on each side of detection, so a burst after it cannot crowd out what led to it.
    before = session.scalars(
        select(Event)
        .where(*where, Event.occurred_at <= inv.detected_at)
        .order_by(Event.occurred_at.desc())
        .limit(SIGNALS_CAP)
    ).all()
    after = session.scalars(
        select(Event)
        .where(*where, Event.occurred_at > inv.detected_at)
        .order_by(Event.occurred_at)
        .limit(SIGNALS_CAP // 4)
    ).all()
    return [*before, *after]


def _fits(rows: Sequence[Event], ctx: Context, start: datetime, anchor: datetime) -> bool:
    """Whether some change in reach (not a build) happened in the range; chains not needed."""
    return any(
        start <= r.occurred_at <= anchor and r.type != "build" and in_scope(r, ctx) for r in rows
    )


def find(
    session: Session,
    inv: Investigation,
    *,
    changes_before: timedelta | None,
    signals_before: timedelta | None,
    after: timedelta,
    min_severity: EventSeverity,
    widen: bool,
) -> Found:
    """The changes and signals to score, with the context (chains filled in) and notes."""
    ctx = context.build(session, inv)
    anchor = min(ctx.onset or inv.detected_at, inv.detected_at)
    end = inv.detected_at + after
    notes: list[str] = []
    changes: list[Event] = []
    if changes_before is not None:
        window = changes_before
        while True:
            start = anchor - window
            rows = _changes(session, inv, start - CHAIN_SLACK, anchor, end)
            if not widen or window >= MAX_LOOKBACK or _fits(rows, ctx, start, anchor):
                break
            window = min(window * 3, MAX_LOOKBACK)
        ctx.window = window
        ctx.chains = context.chains(rows, ctx)
        if window != changes_before:
            where = ", ".join(sorted(ctx.scope)) or "any service"
            notes.append(
                f"No change of {where} in the {ago(changes_before)} before "
                f"{'the symptoms began' if ctx.onset else 'detection'}; "
                f"looked back {ago(window)} instead."
            )
        decided = set(session.scalars(_decided(inv)))
        changes = [
            r
            for r in rows
            if r.occurred_at >= start
            and r.id not in decided
            and SEVERITY_RANK[r.severity] >= SEVERITY_RANK[min_severity]
            and in_scope(r, ctx)
        ]
    found: list[Event] = []
    if signals_before is not None:
        found = _signals(
            session,
            inv,
            ctx,
            start=inv.detected_at - signals_before,
            end=end,
            min_severity=min_severity,
        )
    return Found(ctx=ctx, changes=changes, signals=found, notes=notes)


def stored_suggestions(session: Session, inv: Investigation) -> list[Event]:
    """Events a rule or the seed linked as ``suggested``: always candidates, whatever the window."""
    return list(
        session.scalars(
            select(Event)
            .join(EventLink, EventLink.event_id == Event.id)
            .where(EventLink.investigation_id == inv.id, EventLink.status == LinkStatus.SUGGESTED)
        ).all()
    )
