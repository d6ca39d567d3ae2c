"""Doing what an approved item describes, exactly once (internal to the review services)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from domain.enums import (
    ContractStatus,
    DealStage,
    EmailStatus,
    NegotiationParty,
    ReviewKind,
    ReviewStatus,
)
from domain.models import (
    Contract,
    Deal,
    EmailMessage,
    Investigation,
    Invoice,
    Lead,
    NegotiationRound,
    ReviewItem,
)
from domain.review_policy import (
    PolicyRefusal,
    ReviewPolicy,
    check_dunning_cadence,
)
from services import db
from services.config import get_settings
from services.errors import InvalidInput
from services.review import contact, items, rca, rules
from services.review.mailer import DeliveryFailed, deliver
from services.review.subject_audit import subject_changes
from services.review.subjects import ExecutionFailed, first_text, get_subject
from services.uow import UnitOfWork

K = ReviewKind


def claim(uow: UnitOfWork, item: ReviewItem) -> bool:
    """Take the one right to execute an approved item; False if another worker already has."""
    claimed = uow.update_guarded(
        ReviewItem,
        ReviewItem.id == item.id,
        ReviewItem.status == ReviewStatus.APPROVED,
        execution_attempts=ReviewItem.execution_attempts + 1,
    )
    uow.session.refresh(item)
    return claimed == 1


def execute(uow: UnitOfWork, item: ReviewItem, policy: ReviewPolicy, now: datetime) -> bool:
    """Run an approved item's executor once and record executed or failed; False if not ours."""
    if item.kind is K.ACTION:
        return False  # an external agent carries it out and reports back (services/review/action)
    if not claim(uow, item):
        return False
    before = items.snapshot(item)
    try:
        with subject_changes(uow, item):  # before/after of the lead, deal, invoice, contract
            detail = _run(uow, item, policy, now)
    except (ExecutionFailed, DeliveryFailed) as exc:
        item.mark_failed(str(exc), now)
        items.record(uow, item, "review.execution_failed", before, reason=str(exc))
        return True
    item.mark_executed(now)
    items.record(uow, item, "review.executed", before, extra={"outcome": detail})
    return True


def _run(uow: UnitOfWork, item: ReviewItem, policy: ReviewPolicy, now: datetime) -> str:
    if item.kind is K.OUTREACH_EMAIL:
        return _outreach(uow, item, policy, now)
    if item.kind is K.DUNNING_NOTICE:
        return _dunning(uow, item, policy, now)
    if item.kind in (K.DEAL_PROPOSAL, K.COUNTER_OFFER):
        return _deal(uow, item, now)
    if item.kind is K.CONTRACT:
        return _contract(uow, item, now)
    return rca.write_hypothesis(uow, item, now)


def _send(uow: UnitOfWork, item: ReviewItem, to: str, **links: int | None) -> EmailMessage:
    subject = first_text(item.payload, "subject") or item.subject_label
    body = first_text(item.payload, "body", "text")
    if not to:
        raise ExecutionFailed("The draft has no recipient address.")
    message = EmailMessage(
        tenant_id=item.tenant_id,
        review_item_id=item.id,
        from_addr=get_settings().mail_from,
        to_addr=to,
        subject=subject[:300],
        body=body,
        status=EmailStatus.QUEUED,
        **links,
    )
    uow.session.add(message)
    # What the decision wrote so far reaches the database before the SMTP hand-off (version
    # checks, unique keys); the subject row is locked (check_preconditions), so what follows
    # the hand-off cannot conflict: only the commit itself still stands between the two.
    uow.session.flush()
    try:
        deliver(message)
    finally:
        uow.session.flush()
    return message


def _outreach(uow: UnitOfWork, item: ReviewItem, policy: ReviewPolicy, now: datetime) -> str:
    lead: Lead = get_subject(uow, Lead, item)
    try:  # the approved (possibly edited) recipient, under the contact rules as they are now
        to = contact.check_outreach(uow.session, lead, item.payload, policy, now)
    except PolicyRefusal as exc:
        raise ExecutionFailed(str(exc)) from exc
    message = _send(uow, item, to, lead_id=lead.id)
    lead.record_contact(now)
    return f"email {message.status.value} to {to}"


def _dunning(uow: UnitOfWork, item: ReviewItem, policy: ReviewPolicy, now: datetime) -> str:
    invoice: Invoice = get_subject(uow, Invoice, item)
    try:
        check_dunning_cadence(
            last_dunned_at=invoice.last_dunned_at,
            now=now,
            cadence_days=policy.dunning_cadence_days,
            invoice=invoice.number,
        )
    except PolicyRefusal as exc:
        raise ExecutionFailed(str(exc)) from exc
    message = _send(
        uow, item, invoice.customer_email, invoice_id=invoice.id, lead_id=invoice.lead_id
    )
    invoice.record_notice(now)
    return (
        f"dunning notice {invoice.dunning_level} {message.status.value} to {invoice.customer_email}"
    )


def _deal(uow: UnitOfWork, item: ReviewItem, now: datetime) -> str:
    deal: Deal = get_subject(uow, Deal, item)
    if deal.stage in (DealStage.CLOSED_WON, DealStage.CLOSED_LOST):
        raise ExecutionFailed(f"Deal {deal.name} is already {deal.stage.value.replace('_', ' ')}.")
    try:  # the approval checked these; what it checked is what is carried out
        amount, discount = rules.deal_terms(item.payload, deal)
    except InvalidInput as exc:
        raise ExecutionFailed(exc.message) from exc
    last = uow.session.scalar(
        select(func.max(NegotiationRound.round_no)).where(NegotiationRound.deal_id == deal.id)
    )
    round_no = int(last or 0) + 1
    uow.session.add(
        NegotiationRound(
            tenant_id=item.tenant_id,
            deal_id=deal.id,
            round_no=round_no,
            party=NegotiationParty.US,
            amount=amount,
            discount_pct=discount,
            terms=first_text(item.payload, "terms", "body") or None,
            review_item_id=item.id,
        )
    )
    target = DealStage.PROPOSAL if item.kind is K.DEAL_PROPOSAL else DealStage.NEGOTIATION
    deal.record_offer(target, amount, discount, now)
    return f"deal {deal.name} at {deal.stage.value}, round {round_no}: {amount} {deal.currency}"


def _contract(uow: UnitOfWork, item: ReviewItem, now: datetime) -> str:
    contract: Contract = get_subject(uow, Contract, item)
    if contract.status is not ContractStatus.DRAFT:
        raise ExecutionFailed(f"Contract {contract.number} is {contract.status.value}, not draft.")
    contract.send()
    return f"contract {contract.number} sent"


SUBJECTS: dict[ReviewKind, type[Any]] = {
    K.OUTREACH_EMAIL: Lead,
    K.DUNNING_NOTICE: Invoice,
    K.DEAL_PROPOSAL: Deal,
    K.COUNTER_OFFER: Deal,
    K.CONTRACT: Contract,
    K.RCA_HYPOTHESIS: Investigation,
}


def lock_subject(uow: UnitOfWork, item: ReviewItem) -> Any:
    """The row the item is about, row-locked on PostgreSQL (None when it is gone, or when an
    external action has no row of ours)."""
    model = SUBJECTS.get(item.kind)
    if model is None:
        return None
    stmt = select(model).where(model.id == item.subject_id)
    stmt = db.row_locked(stmt, uow.session).execution_options(populate_existing=True)
    return uow.session.scalar(stmt)


def check_preconditions(
    uow: UnitOfWork, item: ReviewItem, policy: ReviewPolicy, now: datetime
) -> None:
    """Refuse an approval a contact rule already forbids (do-not-contact, cadences).

    The subject row is locked first (on PostgreSQL), so two approvals about the same lead,
    invoice or deal take turns: the second sees what the first did (a notice just sent) and the
    contact rules refuse it before any mail goes out."""
    if item.kind not in SUBJECTS:
        return  # external actions have no subject row of ours
    subject = lock_subject(uow, item)
    if item.kind is K.OUTREACH_EMAIL:
        lead = subject
        if lead is not None:
            contact.check_outreach(uow.session, lead, item.payload, policy, now)
    elif item.kind is K.DUNNING_NOTICE:
        invoice = subject
        if invoice is not None:
            check_dunning_cadence(
                last_dunned_at=invoice.last_dunned_at,
                now=now,
                cadence_days=policy.dunning_cadence_days,
                invoice=invoice.number,
            )
