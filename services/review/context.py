"""What a review item is about, gathered for the detail pane (internal)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.base import utcnow
from domain.enums import ReviewKind
from domain.models import (
    Contract,
    Deal,
    EmailMessage,
    Investigation,
    Invoice,
    Lead,
    NegotiationRound,
    ReviewItem,
    Tenant,
)
from services import clock
from services.config import get_settings
from services.review import rules
from services.review.schemas import ReviewContext


def build(session: Session, item: ReviewItem) -> ReviewContext:
    """Facts and history about the item's subject (empty when the subject is gone)."""
    builder = {
        "lead": _lead,
        "deal": _deal,
        "invoice": _invoice,
        "investigation": _investigation,
        "contract": _contract,
    }.get(item.subject_type)
    ctx = builder(session, item.subject_id) if builder else ReviewContext()
    tenant = session.get(Tenant, item.tenant_id)
    ctx.time_zone = clock.zone_name(tenant)
    if item.kind in {ReviewKind.DEAL_PROPOSAL, ReviewKind.COUNTER_OFFER}:
        ctx.discount_cap_pct = float(rules.discount_cap(tenant))
    return ctx


def _emails(session: Session, *where: Any) -> list[dict[str, str]]:
    rows = session.scalars(
        select(EmailMessage).where(*where).order_by(EmailMessage.id.desc()).limit(10)
    ).all()
    return [
        {
            "sent": f"{m.created_at:%Y-%m-%d %H:%M}",
            "to": m.to_addr,
            "subject": m.subject,
            "status": m.status.value,
        }
        for m in rows
    ]


def _lead(session: Session, lead_id: int) -> ReviewContext:
    lead = session.get(Lead, lead_id)
    if lead is None:
        return ReviewContext()
    return ReviewContext(
        email_from=get_settings().mail_from,
        email_to=f"{lead.name} <{lead.email}>",
        facts={
            "Lead": lead.name,
            "Email": lead.email,
            "Company": lead.company,
            "Title": lead.title or "—",
            "Industry": lead.industry or "—",
            "Status": lead.status.value,
            "Do not contact": "YES" if lead.do_not_contact else "no",
            "Last contacted": f"{lead.last_contacted_at:%Y-%m-%d}"
            if lead.last_contacted_at
            else "never",
            "Notes": lead.notes or "—",
        },
        history=_emails(session, EmailMessage.lead_id == lead.id),
    )


def _deal(session: Session, deal_id: int) -> ReviewContext:
    deal = session.get(Deal, deal_id)
    if deal is None:
        return ReviewContext()
    rounds = session.scalars(
        select(NegotiationRound)
        .where(NegotiationRound.deal_id == deal.id)
        .order_by(NegotiationRound.round_no)
    ).all()
    return ReviewContext(
        currency=deal.currency,
        list_price=float(deal.amount),
        facts={
            "Deal": deal.name,
            "Amount": f"{deal.amount:,.2f} {deal.currency}",
            "Discount": f"{deal.discount_pct}%",
            "Stage": deal.stage.value,
        },
        history=[
            {
                "round": str(r.round_no),
                "party": r.party.value,
                "amount": f"{r.amount:,.2f}",
                "discount": f"{r.discount_pct}%",
                "terms": r.terms or "",
            }
            for r in rounds
        ],
    )


def _invoice(session: Session, invoice_id: int) -> ReviewContext:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        return ReviewContext()
    today: date = utcnow().date()
    overdue_days = max(0, (today - invoice.due_date).days)
    return ReviewContext(
        currency=invoice.currency,
        email_from=get_settings().mail_from,
        email_to=f"{invoice.customer_name} <{invoice.customer_email}>",
        facts={
            "Invoice": invoice.number,
            "Customer": invoice.customer_name,
            "Amount due": f"{invoice.amount:,.2f} {invoice.currency}",
            "Due date": f"{invoice.due_date:%Y-%m-%d}",
            "Days overdue": str(overdue_days),
            "Status": invoice.status.value,
            "Dunning level": str(invoice.dunning_level),
            "Last notice": f"{invoice.last_dunned_at:%Y-%m-%d}"
            if invoice.last_dunned_at
            else "none",
        },
        history=_emails(session, EmailMessage.invoice_id == invoice.id),
    )


def _investigation(session: Session, investigation_id: int) -> ReviewContext:
    inv = session.get(Investigation, investigation_id)
    if inv is None:
        return ReviewContext()
    return ReviewContext(
        subject_url=f"/investigations?investigation={inv.id}",
        facts={
            "Investigation": inv.title,
            "Severity": inv.severity.value,
            "Status": inv.status.value,
            "Service": inv.service or "—",
            "Current root cause": inv.root_cause or "—",
        },
    )


def _contract(session: Session, contract_id: int) -> ReviewContext:
    contract = session.get(Contract, contract_id)
    if contract is None:
        return ReviewContext()
    return ReviewContext(
        currency=contract.currency,
        facts={
            "Contract": contract.number,
            "Value": f"{contract.value:,.2f} {contract.currency}",
            "Status": contract.status.value,
        },
    )
