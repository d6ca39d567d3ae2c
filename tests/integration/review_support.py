"""Rows the review tests decide about: leads, deals, invoices, investigations, and drafts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from domain.base import utcnow
from domain.enums import ReviewKind, Severity
from domain.models import Deal, EmailMessage, Investigation, Invoice, Lead, ReviewItem
from services import review
from services.review import ReviewDraftCreate, ReviewItemRead
from services.uow import UnitOfWork


def add(row: Any) -> int:
    with UnitOfWork(None) as uow:
        uow.session.add(row)
        uow.commit()
        return int(row.id)


def lead(tenant_id: int, *, do_not_contact: bool = False, email: str = "jane@example.test") -> int:
    return add(
        Lead(
            tenant_id=tenant_id,
            email=email,
            name="Jane Doe",
            company="Example GmbH",
            do_not_contact=do_not_contact,
        )
    )


def deal(tenant_id: int, *, amount: str = "10000.00", currency: str = "EUR") -> int:
    return add(
        Deal(tenant_id=tenant_id, name="Robot arms", amount=Decimal(amount), currency=currency)
    )


def invoice(
    tenant_id: int, *, last_dunned_at: datetime | None = None, number: str = "INV-1"
) -> int:
    return add(
        Invoice(
            tenant_id=tenant_id,
            number=number,
            customer_name="Example GmbH",
            customer_email="ap@example.test",
            amount=Decimal("1200.00"),
            due_date=date.today() - timedelta(days=20),
            last_dunned_at=last_dunned_at,
        )
    )


def investigation(tenant_id: int) -> int:
    return add(
        Investigation(
            tenant_id=tenant_id,
            title="Checkout errors",
            severity=Severity.HIGH,
            detected_at=utcnow(),
        )
    )


PAYLOADS: dict[ReviewKind, dict[str, Any]] = {
    ReviewKind.OUTREACH_EMAIL: {"subject": "Quick question", "body": "Hello Jane,\nShall we talk?"},
    ReviewKind.DUNNING_NOTICE: {"subject": "Reminder: INV-1", "body": "Please pay INV-1."},
    ReviewKind.DEAL_PROPOSAL: {"amount": 10000, "discount_pct": 5, "terms": "Net 30"},
    ReviewKind.COUNTER_OFFER: {"amount": 9000, "discount_pct": 10, "terms": "Net 45"},
    ReviewKind.RCA_HYPOTHESIS: {"hypothesis": "Deploy 42 broke the cache", "notes": "Roll back"},
    ReviewKind.CONTRACT: {"summary": "Two-year agreement, net 30."},
}
SUBJECT_TYPES = {
    ReviewKind.OUTREACH_EMAIL: "lead",
    ReviewKind.DUNNING_NOTICE: "invoice",
    ReviewKind.DEAL_PROPOSAL: "deal",
    ReviewKind.COUNTER_OFFER: "deal",
    ReviewKind.RCA_HYPOTHESIS: "investigation",
    ReviewKind.CONTRACT: "contract",
}


def draft(
    tenant_id: int,
    kind: ReviewKind,
    subject_id: int,
    *,
    amount: float | None = None,
    triggered_by_id: int | None = None,
    payload: dict[str, Any] | None = None,
    label: str = "Jane Doe <jane@example.test>",
    **extra: Any,
) -> ReviewItemRead:
    body = dict(payload or PAYLOADS[kind])
    if amount is not None:
        body["amount"] = amount
    return review.submit_draft(
        tenant_id=tenant_id,
        draft_in=ReviewDraftCreate(
            kind=kind,
            subject_type=SUBJECT_TYPES[kind],
            subject_id=subject_id,
            subject_label=label,
            payload=body,
            confidence=extra.pop("confidence", 0.8),
            amount=amount if amount is not None else body.get("amount"),
            triggered_by_id=triggered_by_id,
            drafted_by="sdr",
            **extra,
        ),
    )


def set_item(item_id: int, **values: Any) -> None:
    """Change an item behind the services' back (as time passing would)."""
    with UnitOfWork(None) as uow:
        uow.session.execute(update(ReviewItem).where(ReviewItem.id == item_id).values(**values))
        uow.commit()


def count_emails(**where: Any) -> int:
    with UnitOfWork(None, readonly=True) as uow:
        stmt = select(func.count()).select_from(EmailMessage)
        for key, value in where.items():
            stmt = stmt.where(getattr(EmailMessage, key) == value)
        return int(uow.session.scalar(stmt) or 0)


def get(model: Any, row_id: int) -> Any:
    with UnitOfWork(None, readonly=True) as uow:
        row = uow.session.get(model, row_id)
        uow.session.expunge(row)
        return row


def rows(stmt: Any) -> list[Any]:
    """All ORM rows a select returns, detached so they outlive the unit of work."""
    with UnitOfWork(None, readonly=True) as uow:
        found = list(uow.session.scalars(stmt))
        uow.session.expunge_all()
        return found
