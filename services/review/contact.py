"""Who an outreach e-mail may go to right now: do-not-contact and the outreach cadences.

Shared by the approval (before anything is written), the executor (just before the mail) and
the review card's pre-checks. Every refusal is a ``PolicyRefusal`` naming its rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.enums import EmailStatus
from domain.models import EmailMessage, Lead
from domain.review_policy import (
    ReviewPolicy,
    check_may_contact,
    check_outreach_cadence,
    check_outreach_daily_limit,
)

DAY = timedelta(hours=24)


def recipient(payload: dict[str, Any], lead: Lead) -> str:
    """Where an outreach draft goes: its (edited) To, else the lead's own address."""
    to = payload.get("to")
    return to.strip() if isinstance(to, str) and to.strip() else lead.email


def _outreach_mail(tenant_id: int) -> Any:
    # Outreach e-mails are the ones not about an invoice; failed deliveries did not reach anyone.
    return (
        EmailMessage.tenant_id == tenant_id,
        EmailMessage.invoice_id.is_(None),
        EmailMessage.status != EmailStatus.FAILED,
    )


def last_contacted(session: Session, lead: Lead, to: str) -> datetime | None:
    """The last outreach to this lead, or to this address (under any lead)."""
    lowered = to.lower()
    by_address = session.scalar(
        select(func.max(EmailMessage.created_at)).where(
            *_outreach_mail(lead.tenant_id), func.lower(EmailMessage.to_addr) == lowered
        )
    )
    by_lead = session.scalar(
        select(func.max(Lead.last_contacted_at)).where(
            Lead.tenant_id == lead.tenant_id, func.lower(Lead.email) == lowered
        )
    )
    times = [t for t in (lead.last_contacted_at, by_address, by_lead) if t is not None]
    return max(times) if times else None


def check_outreach(
    session: Session, lead: Lead, payload: dict[str, Any], policy: ReviewPolicy, now: datetime
) -> str:
    """Refuse an outreach e-mail the contact rules forbid now; returns its recipient."""
    to = recipient(payload, lead)
    check_may_contact(do_not_contact=lead.do_not_contact, who=f"{lead.name} <{lead.email}>")
    flagged = session.scalar(
        select(Lead.email)
        .where(
            Lead.tenant_id == lead.tenant_id,
            func.lower(Lead.email) == to.lower(),
            Lead.do_not_contact.is_(True),
        )
        .limit(1)
    )
    if flagged:
        check_may_contact(do_not_contact=True, who=f"the recipient {to}")
    check_outreach_cadence(
        last_contacted_at=last_contacted(session, lead, to),
        now=now,
        cadence_days=policy.outreach_cadence_days,
        who=f"{lead.name} <{to}>",
    )
    if policy.outreach_daily_limit > 0:
        sent = session.scalar(
            select(func.count())
            .select_from(EmailMessage)
            .where(*_outreach_mail(lead.tenant_id), EmailMessage.created_at > now - DAY)
        )
        check_outreach_daily_limit(sent_last_day=int(sent or 0), limit=policy.outreach_daily_limit)
    return to
