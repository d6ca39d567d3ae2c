"""Demo investigations, the incident signals around each one, and suggested/accepted links."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.enums import (
    EventSource,
    InvestigationStatus,
    LinkStatus,
    Priority,
    Role,
    Severity,
)
from domain.models import Event, EventLink, Investigation
from services.seed.context import DemoContext
from services.seed.demo_events import CHORES, EventLog, background
from services.seed.demo_scenarios import SCENARIOS, Scenario
from services.seed.vocab import pick

INVESTIGATIONS = 8
STATUSES = [InvestigationStatus.OPEN] * 2 + [InvestigationStatus.IN_PROGRESS] * 2
STATUSES += [InvestigationStatus.RESOLVED] * 2 + [InvestigationStatus.CLOSED] * 2
SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.HIGH, Severity.HIGH]
SEVERITIES += [Severity.MEDIUM, Severity.MEDIUM, Severity.LOW, Severity.LOW]
PRIORITY = {"critical": Priority.P0, "high": Priority.P1, "medium": Priority.P2, "low": Priority.P3}
AGE_HOURS = {"open": (0.5, 10), "in_progress": (6, 72), "resolved": (72, 336), "closed": (240, 670)}


def seed_investigations(ctx: DemoContext) -> None:
    """Eight investigations with their events and links for one tenant, all flushed."""
    rng, now = ctx.rng, ctx.now
    scenarios = rng.sample(SCENARIOS, INVESTIGATIONS)
    severities = list(SEVERITIES)
    rng.shuffle(severities)
    responders = [ctx.users[Role.ADMIN], ctx.users[Role.REVIEWER]]
    events = EventLog(ctx)
    stories: list[tuple[Investigation, list[tuple[Event, float, list[str]]]]] = []
    for status, severity, scenario in zip(STATUSES, severities, scenarios, strict=True):
        low, high = AGE_HOURS[status.value]
        detected = now - timedelta(hours=rng.uniform(low, high))
        inv = _investigation(ctx, scenario, status, severity, detected, pick(rng, responders).id)
        stories.append((inv, _story(events, scenario, detected, status)))
    background(events)
    ctx.save([inv for inv, _ in stories])
    ctx.save(events.rows)
    links = [
        _link(ctx, inv, event, score, reasons)
        for inv, evidence in stories
        for event, score, reasons in evidence
    ]
    ctx.save(links)
    ctx.incidents.investigations = [inv for inv, _ in stories]
    ctx.incidents.events = events.rows
    ctx.incidents.links = links


def _investigation(
    ctx: DemoContext,
    sc: Scenario,
    status: InvestigationStatus,
    severity: Severity,
    detected: datetime,
    assignee_id: int,
) -> Investigation:
    rng, now = ctx.rng, ctx.now
    started = (
        detected + timedelta(minutes=rng.uniform(3, 40))
        if status != InvestigationStatus.OPEN
        else None
    )
    done = status in {InvestigationStatus.RESOLVED, InvestigationStatus.CLOSED}
    resolved = detected + timedelta(hours=rng.uniform(1.5, 30)) if done else None
    closed = (
        resolved + timedelta(days=rng.uniform(1, 5))
        if resolved and status == InvestigationStatus.CLOSED
        else None
    )
    return Investigation(
        tenant_id=ctx.tenant_id,
        title=sc.title,
        description=sc.description,
        severity=severity,
        status=status,
        priority=PRIORITY[severity.value],
        detected_at=detected,
        started_at=started,
        resolved_at=resolved,
        closed_at=min(closed, now) if closed else None,
        root_cause=sc.root_cause if done else None,
        remediation=sc.remediation if done else None,
        lessons_learned=sc.lessons if status == InvestigationStatus.CLOSED else None,
        service=sc.service,
        component=sc.component,
        tags=list(sc.tags),
        assignee_id=assignee_id if started else None,
        created_by_id=ctx.user_id(Role.ADMIN),
        updated_at=min(closed or resolved or started or detected, now),
        created_at=detected + timedelta(minutes=1),
    )


def _story(
    log: EventLog, sc: Scenario, detected: datetime, status: InvestigationStatus
) -> list[tuple[Event, float, list[str]]]:
    """The signals around one incident; returns the ones a rule would link, with score/reasons."""
    rng, svc = log.ctx.rng, sc.service
    for _ in range(rng.randint(2, 5)):
        at = detected - timedelta(hours=rng.uniform(2, 36))
        other = log.commit(svc, sc.component, pick(rng, CHORES), at)
        ok = rng.random() > 0.2
        log.ci(svc, other.data["sha"], at + timedelta(minutes=4), deploy=False, ok=ok)
    culprit_at = detected - timedelta(minutes=rng.uniform(20, 90))
    culprit = log.commit(svc, sc.component, sc.commit, culprit_at)
    log.ci(svc, culprit.data["sha"], culprit_at + timedelta(minutes=4), deploy=False)
    deploy = log.ci(svc, culprit.data["sha"], culprit_at + timedelta(minutes=12), deploy=True)
    spikes = [
        log.log_spike(
            svc,
            sc.component,
            sc.error,
            detected + timedelta(minutes=k * rng.uniform(8, 20) - 4),
            rng.randint(120, 2400),
            rng.randint(0, 12),
        )
        for k in range(rng.randint(3, 6))
    ]
    anomalies = []
    for k in range(rng.randint(2, 4)):
        at = detected + timedelta(minutes=k * rng.uniform(5, 15) - 2)
        baseline = rng.uniform(0.2, 50)
        value, z = baseline * rng.uniform(3, 12), round(rng.uniform(3.6, 11), 1)
        anomalies.append(log.anomaly(svc, sc.metric, at, value, baseline, z))
    traces = [
        log.slow_span(svc, sc.span, detected + timedelta(minutes=rng.uniform(-3, 60)))
        for _ in range(rng.randint(3, 6))
    ]
    notes = {"open": 0, "in_progress": 2, "resolved": 3, "closed": 3}[status.value]
    for n in range(notes):
        text = NOTES[n].format(service=svc, component=sc.component, commit=sc.commit)
        log.note(svc, text, detected + timedelta(minutes=15 + n * rng.uniform(20, 90)))
    lead_min = int((detected - deploy.occurred_at).total_seconds() // 60)
    deploy_reason = f"deploy of {sc.component} {lead_min} min before detection"
    return [
        (culprit, round(rng.uniform(0.86, 0.97), 2), ["same service", "commit precedes spike"]),
        (deploy, round(rng.uniform(0.8, 0.95), 2), [deploy_reason, "same service"]),
        (spikes[0], round(rng.uniform(0.7, 0.9), 2), ["error signature matches alert"]),
        (anomalies[0], round(rng.uniform(0.55, 0.8), 2), ["metric anomaly within 10 min"]),
        (traces[0], round(rng.uniform(0.35, 0.6), 2), ["slow span on affected endpoint"]),
    ]


def _link(
    ctx: DemoContext, inv: Investigation, event: Event, score: float, reasons: list[str]
) -> EventLink:
    rng = ctx.rng
    decided = inv.status != InvestigationStatus.OPEN and score >= 0.5
    rejected = decided and score < 0.6 and rng.random() < 0.5
    status = LinkStatus.ACCEPTED if decided else LinkStatus.SUGGESTED
    if rejected:
        status = LinkStatus.REJECTED
    at = max(event.occurred_at, inv.detected_at) + timedelta(minutes=2)
    return EventLink(
        tenant_id=ctx.tenant_id,
        investigation_id=inv.id,
        event_id=event.id,
        linked_by_id=None,
        rule="deploy_window" if event.source in {EventSource.GIT, EventSource.CI} else "signal",
        score=score,
        reasons=reasons,
        status=status,
        decided_by_id=inv.assignee_id if decided else None,
        decided_at=min(at + timedelta(minutes=rng.uniform(5, 90)), ctx.now) if decided else None,
        note="Not related: different endpoint." if rejected else None,
        created_at=min(at, ctx.now),
    )


NOTES = [
    "Paged on-call; {service} error rate confirmed on dashboards.",
    "Suspect '{commit}' on {component}; preparing rollback.",
    "Rollback done, error rate back to baseline. Monitoring for 30 min.",
]
