"""Runs started where people work: the leads, deals and invoices to act on, the buttons each
role may press on them, and one started run's progress up to the review item it produced."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import select

from domain.enums import AgentName, ReviewStatus, RunStatus, RunTrigger
from domain.models import Deal, Invoice, Lead, ReviewItem
from services import runs
from services.actor import Actor
from services.errors import InvalidInput
from services.permissions import Action, may_run, require
from services.uow import UnitOfWork


class WorkAction(BaseModel):
    label: str
    agent: AgentName
    subject_type: str


# The buttons on each kind of subject, in the order they are shown.
ACTIONS: tuple[WorkAction, ...] = (
    WorkAction(label="Draft outreach", agent=AgentName.SDR, subject_type="lead"),
    WorkAction(label="Draft proposal", agent=AgentName.SALES, subject_type="deal"),
    WorkAction(label="Counter-offer", agent=AgentName.NEGOTIATION, subject_type="deal"),
    WorkAction(label="Dunning notice", agent=AgentName.FINANCE, subject_type="invoice"),
    WorkAction(
        label="Draft root cause", agent=AgentName.INVESTIGATOR, subject_type="investigation"
    ),
)


class LeadRow(BaseModel):
    id: int
    name: str
    company: str
    email: str
    status: str
    do_not_contact: bool


class DealRow(BaseModel):
    id: int
    name: str
    amount: Decimal
    currency: str
    stage: str


class InvoiceRow(BaseModel):
    id: int
    number: str
    customer_name: str
    amount: Decimal
    currency: str
    due_date: date
    status: str
    dunning_level: int


class WorkLists(BaseModel):
    leads: list[LeadRow]
    deals: list[DealRow]
    invoices: list[InvoiceRow]


class RunProgress(BaseModel):
    run: runs.RunRead
    review_item_ids: list[int]
    pending_item_ids: list[int]

    @property
    def finished(self) -> bool:
        return self.run.status in {
            RunStatus.SUCCEEDED,
            RunStatus.DEAD,
            RunStatus.CANCELLED,
        }


def actions_for(*, actor: Actor, subject_type: str) -> list[WorkAction]:
    """The run buttons the actor may press on this kind of subject."""
    return [a for a in ACTIONS if a.subject_type == subject_type and may_run(actor, a.agent)]


def list_work(*, actor: Actor, limit: int = 50) -> WorkLists:
    """The tenant's newest leads, open deals and unpaid invoices (``limit`` of each)."""
    require(actor, Action.TRIGGER_RUN)
    n = max(1, min(limit, 200))
    with UnitOfWork(actor, readonly=True) as uow:
        s = uow.session
        leads = s.scalars(select(Lead).order_by(Lead.id.desc()).limit(n))
        deals = s.scalars(select(Deal).order_by(Deal.id.desc()).limit(n))
        invoices = s.scalars(select(Invoice).order_by(Invoice.due_date, Invoice.id).limit(n))
        return WorkLists(
            leads=[
                LeadRow(
                    id=x.id,
                    name=x.name,
                    company=x.company,
                    email=x.email,
                    status=x.status.value,
                    do_not_contact=x.do_not_contact,
                )
                for x in leads
            ],
            deals=[
                DealRow(
                    id=x.id, name=x.name, amount=x.amount, currency=x.currency, stage=x.stage.value
                )
                for x in deals
            ],
            invoices=[
                InvoiceRow(
                    id=x.id,
                    number=x.number,
                    customer_name=x.customer_name,
                    amount=x.amount,
                    currency=x.currency,
                    due_date=x.due_date,
                    status=x.status.value,
                    dunning_level=x.dunning_level,
                )
                for x in invoices
            ],
        )


def start(*, actor: Actor, agent: AgentName, subject_type: str, subject_id: int) -> runs.RunRead:
    """Queue the agent on the subject with the signed-in person as its triggerer."""
    if not any(a.agent is agent and a.subject_type == subject_type for a in ACTIONS):
        raise InvalidInput(f"The {agent} agent does not work on a {subject_type}.")
    return runs.enqueue(actor=actor, agent=agent, subject_id=subject_id, trigger=RunTrigger.MANUAL)


def progress(*, actor: Actor, run_id: int) -> RunProgress:
    """Where one run is, and the review items it has produced so far."""
    run = runs.get_run(actor=actor, run_id=run_id)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.execute(
            select(ReviewItem.id, ReviewItem.status)
            .where(ReviewItem.run_id == run_id)
            .order_by(ReviewItem.id)
        ).all()
    return RunProgress(
        run=run,
        review_item_ids=[r.id for r in rows],
        pending_item_ids=[r.id for r in rows if r.status is ReviewStatus.PENDING],
    )


class SubjectReview(BaseModel):
    id: int
    kind: str
    status: ReviewStatus
    summary: str


def subject_reviews(
    *, actor: Actor, subject_type: str, subject_id: int, limit: int = 20
) -> list[SubjectReview]:
    """The newest review items about one subject (an investigation's pending hypotheses...)."""
    require(actor, Action.VIEW_HOME)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.scalars(
            select(ReviewItem)
            .where(ReviewItem.subject_type == subject_type, ReviewItem.subject_id == subject_id)
            .order_by(ReviewItem.id.desc())
            .limit(max(1, min(limit, 100)))
        )
        out = []
        for r in rows:
            payload = r.payload if isinstance(r.payload, dict) else {}
            text = next(
                (
                    str(payload[k])
                    for k in ("hypothesis", "summary", "title", "subject", "message")
                    if payload.get(k)
                ),
                r.subject_label,
            )
            out.append(
                SubjectReview(id=r.id, kind=r.kind.value, status=r.status, summary=text[:300])
            )
        return out
