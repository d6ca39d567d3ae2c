"""What correlation knows about an investigation before it scores anything (inside a unit of work).

The services in reach (the affected one and everything it depends on, through the whole declared
graph), when the symptoms began (the first error spike or anomaly of the cluster that led to
detection), how much each dependency's own symptoms weigh, the tenant's path map, which commits
each deploy carried, and what the tenant's earlier decisions taught.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.enums import LinkStatus
from domain.models import Event, EventLink, Investigation, ServiceDependency
from services.investigations import paths, signals
from services.investigations.scoring import Context, Scope, Shipped, touched

SYMPTOM_LOOKBACK = timedelta(days=7)
SYMPTOM_CAP = 2_000
CLUSTER_GAP = timedelta(minutes=90)  # symptoms further apart than this are separate stories
FIRST_TOGETHER = timedelta(minutes=15)  # services whose symptoms began this close began together
LEAD_SLACK = timedelta(minutes=5)
CLUSTER_SPAN = timedelta(days=3)


def graph(session: Session, tenant_id: int) -> dict[str, list[str]]:
    """Every service with the services it depends on."""
    out: dict[str, list[str]] = {}
    rows = session.execute(
        select(ServiceDependency.service, ServiceDependency.depends_on)
        .where(ServiceDependency.tenant_id == tenant_id)
        .order_by(ServiceDependency.service, ServiceDependency.depends_on)
    ).all()
    for service, dep in rows:
        out.setdefault(service, []).append(dep)
    return out


def reach(deps: dict[str, list[str]], roots: Sequence[str]) -> dict[str, list[str]]:
    """Each service reachable from the roots, with the path to it (breadth first, cycles safe)."""
    found: dict[str, list[str]] = {r: [r] for r in roots}
    queue = deque(roots)
    while queue:
        here = queue.popleft()
        for dep in deps.get(here, []):
            if dep not in found:
                found[dep] = [*found[here], dep]
                queue.append(dep)
    return found


def _symptoms(
    session: Session, tenant_id: int, services: list[str] | None, detected: datetime
) -> list[Event]:
    where: list[Any] = [
        Event.tenant_id == tenant_id,
        Event.type.in_(signals.SYMPTOM_TYPES),
        Event.severity.in_(signals.SYMPTOM_SEVERITIES),
        Event.occurred_at >= detected - SYMPTOM_LOOKBACK,
        Event.occurred_at <= detected + FIRST_TOGETHER,
    ]
    if services is not None:
        where.append(Event.service.in_(services))
    rows = session.scalars(
        select(Event).where(*where).order_by(Event.occurred_at.desc()).limit(SYMPTOM_CAP)
    ).all()
    return list(reversed(rows))


def cluster(symptoms: list[Event], detected: datetime) -> list[Event]:
    """The run of symptoms that led to detection, oldest first (gaps under CLUSTER_GAP)."""
    if not symptoms or symptoms[-1].occurred_at < detected - timedelta(hours=24):
        return []
    out = [symptoms[-1]]
    for row in reversed(symptoms[:-1]):
        if out[-1].occurred_at - row.occurred_at > CLUSTER_GAP:
            break
        if row.occurred_at < detected - CLUSTER_SPAN:
            break  # symptoms without a gap for days are the service's usual noise, not an onset
        out.append(row)
    return list(reversed(out))


def _hhmm(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def build(session: Session, inv: Investigation) -> Context:
    """The context for scoring events against the investigation (chains are added later)."""
    tenant = inv.tenant_id
    deps = graph(session, tenant)
    roots = [inv.service] if inv.service else []
    paths_to = reach(deps, roots)
    found = _symptoms(session, tenant, list(paths_to) if roots else None, inv.detected_at)
    run = cluster(found, inv.detected_at)
    first: dict[str, Event] = {}
    for row in run:
        if row.service and row.service not in first:
            first[row.service] = row
    if not roots and run:
        start = run[0].occurred_at
        roots = sorted(s for s, e in first.items() if e.occurred_at - start <= FIRST_TOGETHER)
        paths_to = reach(deps, roots)
    scope: dict[str, Scope] = {}
    root_first = min((first[r].occurred_at for r in roots if r in first), default=None)
    for name, path in paths_to.items():
        depth = len(path) - 1
        if depth == 0:
            why = f"{name} showed symptoms first" if not inv.service else f"same service ({name})"
            scope[name] = Scope(0, 1.0, why)
            continue
        via = f" via {', '.join(path[1:-1])}" if depth > 1 else ""
        lead = f"{path[0]} depends on {name}{via}"
        own = first.get(name)
        if own is not None and (root_first is None or own.occurred_at <= root_first + LEAD_SLACK):
            weight = 1.0
            kind = own.type.replace("_", " ")
            why = f"{lead}, whose own {kind} began first ({_hhmm(own.occurred_at)})"
        elif own is not None:
            weight = 0.6
            why = f"{lead}, whose own symptoms began later ({_hhmm(own.occurred_at)})"
        else:
            weight = 0.25
            why = f"{lead}, which shows no errors or anomalies of its own"
        scope[name] = Scope(depth, round(weight * 0.9 ** (depth - 1), 3), why)
    ctx = Context(service=inv.service, detected=inv.detected_at, scope=scope)
    ctx.component = inv.component
    if run and run[0].occurred_at <= inv.detected_at:
        onset = run[0]
        ctx.onset = onset.occurred_at
        what, where = onset.type.replace("_", " "), onset.service or "a service"
        ctx.onset_what = f"first {what} of {where} at {_hhmm(onset.occurred_at)}"
    ctx.paths = paths.load(session, tenant)
    ctx.learned = learned(session, tenant)
    ctx.stored = {
        event_id: (rule, score)
        for event_id, rule, score in session.execute(
            select(EventLink.event_id, EventLink.rule, EventLink.score).where(
                EventLink.investigation_id == inv.id, EventLink.status == LinkStatus.SUGGESTED
            )
        ).all()
    }
    return ctx


def learned(session: Session, tenant_id: int) -> dict[str, tuple[int, int]]:
    """Accepted and rejected counts per event type over the tenant's decisions."""
    rows = session.execute(
        select(Event.type, EventLink.status, func.count())
        .join(Event, Event.id == EventLink.event_id)
        .where(
            EventLink.tenant_id == tenant_id,
            EventLink.status.in_([LinkStatus.ACCEPTED, LinkStatus.REJECTED]),
        )
        .group_by(Event.type, EventLink.status)
    ).all()
    out: dict[str, tuple[int, int]] = {}
    for kind, status, count in rows:
        accepted, rejected = out.get(kind, (0, 0))
        if status is LinkStatus.ACCEPTED:
            accepted += int(count)
        else:
            rejected += int(count)
        out[kind] = (accepted, rejected)
    return out


def chains(rows: Sequence[Event], ctx: Context) -> dict[int, Shipped]:
    """Which commits each deploy (and build) carried, and which deploy shipped each commit.

    A deploy carries the commit it names and every commit of its service since the previous
    deploy of that service to the same environment.
    """
    ordered = sorted(rows, key=lambda r: (r.occurred_at, r.id))
    commits = [r for r in ordered if r.type in ("commit", "merge")]
    deploys = [r for r in ordered if r.type in ("deploy", "rollback", "build")]
    known = {d.service for d in deploys if d.service}
    by_sha: dict[str, Event] = {}
    by_service: dict[str, list[Event]] = {}
    for c in commits:
        if (sha := signals.sha(c)) is not None:
            by_sha.setdefault(sha, c)
        for name in ({c.service} if c.service else set()) | touched(c, ctx, known):
            by_service.setdefault(name, []).append(c)
    times = {name: [c.occurred_at for c in pool] for name, pool in by_service.items()}
    out: dict[int, Shipped] = {}
    previous: dict[tuple[str | None, str | None], datetime] = {}
    for d in deploys:
        named = by_sha.get(signals.sha(d) or "")
        carried = [named] if named is not None else []
        if d.type != "build":
            key = (d.service, signals.environment(d))
            since = previous.get(key)
            upto = named.occurred_at if named is not None else d.occurred_at
            if since is not None and d.service in by_service:
                pool, at = by_service[d.service], times[d.service]
                lo, hi = bisect_right(at, since), bisect_right(at, upto)
                carried += [c for c in reversed(pool[lo:hi]) if c is not named]
            elif named is None and d.service in by_service:
                pool = by_service[d.service]
                hi = bisect_left(times[d.service], d.occurred_at)
                carried += pool[max(0, hi - 1) : hi]
            previous[key] = d.occurred_at
        out[d.id] = Shipped(commits=carried)
        if d.type == "build":
            continue
        for c in carried:
            shipped = out.setdefault(c.id, Shipped())
            if shipped.deploy is None or _better(d, shipped.deploy, ctx):
                shipped.deploy = d
    return out


def _better(new: Event, old: Event, ctx: Context) -> bool:
    """Prefer the production deploy that ran before the symptoms, then the earliest."""
    anchor = ctx.onset or ctx.detected

    def rank(d: Event) -> tuple[bool, bool, datetime]:
        prod = signals.is_production(signals.environment(d)) is not False
        return (d.occurred_at > anchor, not prod, d.occurred_at)

    return rank(new) < rank(old)
