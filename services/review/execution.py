"""Doing what an approved item describes, exactly once (internal to the review services)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, update

from domain.enums import (
    ContractStatus,
    DealStage,
    EmailStatus,
    LeadStatus,
    LinkStatus,
    NegotiationParty,
    ReviewKind,
    ReviewStatus,
)
from domain.models import (
    Contract,
    Deal,
    EmailMessage,
    Event,
    EventLink,
    Investigation,
    InvestigationNote,
    Invoice,
    Lead,
    NegotiationRound,
    ReviewItem,
)
from domain.review_policy import (
    PolicyRefusal,
    ReviewPolicy,
    check_dunning_cadence,
    check_may_contact,
)
from services.config import get_settings
from services.review import items
from services.review.mailer import DeliveryFailed, deliver
from services.uow import UnitOfWork

K = ReviewKind


class ExecutionFailed(Exception):
    """The item's action could not be carried out; stored on the item as its error."""


def claim(uow: UnitOfWork, item: ReviewItem) -> bool:
    """Take the one right to execute an approved item; False if another worker already has."""
    result = uow.session.execute(
        update(ReviewItem)
        .where(ReviewItem.id == item.id, ReviewItem.status == ReviewStatus.APPROVED)
        .values(
            execution_attempts=ReviewItem.execution_attempts + 1,
            row_version=ReviewItem.row_version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = bool(getattr(result, "rowcount", 0))
    uow.session.refresh(item)
    return claimed


def execute(uow: UnitOfWork, item: ReviewItem, policy: ReviewPolicy, now: datetime) -> bool:
    """Run an approved item's executor once and record executed or failed; False if not ours."""
    if not claim(uow, item):
        return False
    before = items.snapshot(item)
    try:
        detail = _run(uow, item, policy, now)
    except (ExecutionFailed, DeliveryFailed) as exc:
        items.move(item, ReviewStatus.FAILED)
        item.execution_error = str(exc)
        item.updated_at = now
        items.record(uow, item, "review.execution_failed", before, reason=str(exc))
        return True
    items.move(item, ReviewStatus.EXECUTED)
    item.executed_at = now
    item.execution_error = None
    item.updated_at = now
    items.record(uow, item, "review.executed", before, extra={"outcome": detail})
    return True


def _run(uow: UnitOfWork, item: ReviewItem, policy: ReviewPolicy, now: datetime) -> str:
    if item.kind is K.OUTREACH_EMAIL:
        return _outreach(uow, item, now)
    if item.kind is K.DUNNING_NOTICE:
        return _dunning(uow, item, policy, now)
    if item.kind in (K.DEAL_PROPOSAL, K.COUNTER_OFFER):
        return _deal(uow, item, now)
    if item.kind is K.CONTRACT:
        return _contract(uow, item, now)
    return _rca(uow, item, now)


def _get(uow: UnitOfWork, model: type[Any], item: ReviewItem) -> Any:
    row = uow.session.get(model, item.subject_id)
    if row is None:
        raise ExecutionFailed(f"The {item.subject_type} #{item.subject_id} no longer exists.")
    return row


def _text(payload: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _send(uow: UnitOfWork, item: ReviewItem, to: str, **links: int | None) -> EmailMessage:
    subject = _text(item.payload, "subject") or item.subject_label
    body = _text(item.payload, "body", "text")
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
    try:
        deliver(message)
    finally:
        uow.session.flush()
    return message


def _outreach(uow: UnitOfWork, item: ReviewItem, now: datetime) -> str:
    lead: Lead = _get(uow, Lead, item)
    try:
        check_may_contact(do_not_contact=lead.do_not_contact, who=f"{lead.name} <{lead.email}>")
    except PolicyRefusal as exc:
        raise ExecutionFailed(str(exc)) from exc
    message = _send(uow, item, lead.email, lead_id=lead.id)
    lead.last_contacted_at = now
    if lead.status is LeadStatus.NEW:
        lead.status = LeadStatus.CONTACTED
    return f"email {message.status.value} to {lead.email}"


def _dunning(uow: UnitOfWork, item: ReviewItem, policy: ReviewPolicy, now: datetime) -> str:
    invoice: Invoice = _get(uow, Invoice, item)
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
    invoice.dunning_level += 1
    invoice.last_dunned_at = now
    return (
        f"dunning notice {invoice.dunning_level} {message.status.value} to {invoice.customer_email}"
    )


def _money(value: object, fallback: Decimal) -> Decimal:
    if value is None:
        return fallback
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ExecutionFailed(f"The amount {value!r} is not a number.") from exc


def _deal(uow: UnitOfWork, item: ReviewItem, now: datetime) -> str:
    deal: Deal = _get(uow, Deal, item)
    if deal.stage in (DealStage.CLOSED_WON, DealStage.CLOSED_LOST):
        raise ExecutionFailed(f"Deal {deal.name} is already {deal.stage.value.replace('_', ' ')}.")
    amount = _money(item.payload.get("amount"), deal.amount)
    discount = _money(item.payload.get("discount_pct"), deal.discount_pct)
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
            terms=_text(item.payload, "terms", "body") or None,
            review_item_id=item.id,
        )
    )
    target = DealStage.PROPOSAL if item.kind is K.DEAL_PROPOSAL else DealStage.NEGOTIATION
    if deal.stage is DealStage.DISCOVERY or target is DealStage.NEGOTIATION:
        deal.stage = target
    deal.amount = amount
    deal.discount_pct = discount
    deal.updated_at = now
    return f"deal {deal.name} at {deal.stage.value}, round {round_no}: {amount} {deal.currency}"


def _contract(uow: UnitOfWork, item: ReviewItem, now: datetime) -> str:
    contract: Contract = _get(uow, Contract, item)
    if contract.status is not ContractStatus.DRAFT:
        raise ExecutionFailed(f"Contract {contract.number} is {contract.status.value}, not draft.")
    contract.status = ContractStatus.SENT
    return f"contract {contract.number} sent"


def _rca(uow: UnitOfWork, item: ReviewItem, now: datetime) -> str:
    investigation: Investigation = _get(uow, Investigation, item)
    # The investigator agent drafts title + explanation; hand-made drafts may say root_cause.
    drafted = "\n".join(_text(item.payload, key) for key in ("title", "explanation")).strip()
    hypothesis = _text(item.payload, "root_cause", "hypothesis") or drafted
    if not hypothesis:
        raise ExecutionFailed("The hypothesis is empty.")
    investigation.root_cause = hypothesis
    notes = _text(item.payload, "notes", "evidence", "remediation")
    if notes:
        investigation.remediation = notes
    investigation.updated_at = now
    cited = _link_cited_events(uow, item, investigation, now)
    uow.session.add(
        InvestigationNote(
            tenant_id=item.tenant_id,
            investigation_id=investigation.id,
            author_id=item.decided_by_id,
            author_label=uow.actor.display if uow.actor else "system",
            body=f"Accepted root-cause hypothesis (review item #{item.id}): {hypothesis}"
            + (f"\nCited events: {', '.join(f'#{e}' for e in cited)}" if cited else ""),
        )
    )
    return f"root cause written to investigation #{investigation.id}, citing {len(cited)} events"


def _link_cited_events(
    uow: UnitOfWork, item: ReviewItem, investigation: Investigation, now: datetime
) -> list[int]:
    """Attach the events the hypothesis cites to the investigation, as accepted links."""
    raw = item.payload.get("event_ids") or item.payload.get("cited_event_ids") or []
    wanted = {int(e) for e in raw if isinstance(e, int | str) and str(e).isdigit()}
    if not wanted:
        return []
    found = set(uow.session.scalars(select(Event.id).where(Event.id.in_(wanted))))
    links = {
        link.event_id: link
        for link in uow.session.scalars(
            select(EventLink).where(
                EventLink.investigation_id == investigation.id, EventLink.event_id.in_(found)
            )
        )
    }
    for event_id in sorted(found):
        link = links.get(event_id)
        if link is None:
            link = EventLink(
                tenant_id=item.tenant_id,
                investigation_id=investigation.id,
                event_id=event_id,
                rule="rca_hypothesis",
                reasons=[f"cited by the hypothesis in review item #{item.id}"],
            )
            uow.session.add(link)
        link.status = LinkStatus.ACCEPTED
        link.decided_by_id = item.decided_by_id
        link.decided_at = now
    return sorted(found)


def check_preconditions(
    uow: UnitOfWork, item: ReviewItem, policy: ReviewPolicy, now: datetime
) -> None:
    """Refuse an approval a contact rule already forbids (do-not-contact, dunning cadence)."""
    if item.kind is K.OUTREACH_EMAIL:
        lead = uow.session.get(Lead, item.subject_id)
        if lead is not None:
            check_may_contact(do_not_contact=lead.do_not_contact, who=f"{lead.name} <{lead.email}>")
    elif item.kind is K.DUNNING_NOTICE:
        invoice = uow.session.get(Invoice, item.subject_id)
        if invoice is not None:
            check_dunning_cadence(
                last_dunned_at=invoice.last_dunned_at,
                now=now,
                cadence_days=policy.dunning_cadence_days,
                invoice=invoice.number,
            )
