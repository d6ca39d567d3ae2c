"""Small data sets several test modules build on: a review item, an incident with suspects."""

from __future__ import annotations

from datetime import timedelta

from domain.base import utcnow
from domain.enums import EventSeverity, EventSource, ReviewKind, ReviewStatus, Role, Severity
from domain.models import ReviewItem
from services.investigations import dependencies
from services.investigations import service as investigations
from services.investigations.dto import InvestigationCreate
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.event_factory import add_events, event

Pair = tuple[TenantWithUsers, TenantWithUsers]


def add_review_item(tenant_id: int, *, status: ReviewStatus, overdue: bool = False) -> int:
    """An outreach review item in this status, due in four hours (or an hour ago)."""
    now = utcnow()
    with UnitOfWork(None) as uow:
        item = ReviewItem(
            tenant_id=tenant_id,
            kind=ReviewKind.OUTREACH_EMAIL,
            status=status,
            subject_type="lead",
            subject_id=1,
            subject_label="Jane Doe <jane@example.test>",
            payload={"subject": "Hello"},
            original_payload={"subject": "Hello"},
            confidence=0.8,
            due_at=now - timedelta(hours=1) if overdue else now + timedelta(hours=4),
            drafted_by="sdr",
        )
        uow.session.add(item)
        uow.commit()
        return item.id


def incident(pair: Pair) -> tuple[int, dict[str, int]]:
    """North's "Checkout 500s" investigation with a suspect deploy, a commit and an error spike:
    its id and the events' ids by name."""
    north = pair[0]
    detected = utcnow() - timedelta(hours=1)
    editor = north.actor(Role.REVIEWER)
    dependencies.set_for(actor=editor, service="checkout", depends_on=["payments"])
    inv = investigations.create(
        actor=editor,
        investigation_in=InvestigationCreate(
            title="Checkout 500s",
            severity=Severity.CRITICAL,
            service="checkout",
            detected_at=detected,
            tags=["sev1"],
        ),
    )
    m = timedelta(minutes=1)
    ids = add_events(
        north.tenant.id,
        [
            event(
                EventSource.CI,
                "deploy",
                detected - 15 * m,
                "checkout",
                "Deploy 41 of checkout",
                status="succeeded",
                commit_sha="abc123",
            ),
            event(
                EventSource.GIT,
                "commit",
                detected - 90 * m,
                "checkout",
                "Drop cart index",
                files=["checkout/db.py"],
            ),
            event(
                EventSource.LOGS,
                "error_spike",
                detected - 4 * m,
                "checkout",
                "Error spike",
                severity=EventSeverity.HIGH,
                errors_at_onset=40,
                baseline_per_minute=1.0,
            ),
        ],
    )
    return inv.id, {"deploy": ids[0], "commit": ids[1], "spike": ids[2]}
