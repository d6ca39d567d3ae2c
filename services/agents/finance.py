"""Finance agent: an overdue invoice → a dunning notice at the next escalation level."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from domain.base import utcnow
from domain.enums import InvoiceStatus, ReviewKind, Risk
from domain.models import Invoice
from services.agents.base import AgentRefused, Draft, DraftRejected, Inputs
from services.agents.checks import checked

MAX_LEVEL = 3


class DunningDraft(BaseModel):
    subject: str = Field(min_length=3, max_length=200)
    body: str = Field(min_length=20, max_length=4000)
    stated_amount: Decimal = Field(gt=0)
    stated_due_date: date
    confidence: float = Field(ge=0, le=1)


class FinanceAgent:
    name = "finance"
    kind = ReviewKind.DUNNING_NOTICE
    subject_type = "invoice"
    prompt_key = "finance.dunning"
    output: type[BaseModel] = DunningDraft

    def load(self, session: Session, subject_id: int) -> Inputs:
        invoice = session.get(Invoice, subject_id)
        if invoice is None:
            raise AgentRefused(f"Invoice #{subject_id} does not exist in this tenant.")
        today = utcnow().date()
        overdue = invoice.status is InvoiceStatus.OVERDUE or (
            invoice.status is InvoiceStatus.ISSUED and invoice.due_date < today
        )
        if not overdue:
            raise AgentRefused(
                f"Invoice {invoice.number} is {invoice.status.value} and due {invoice.due_date};"
                " only overdue invoices get dunning notices."
            )
        if invoice.dunning_level >= MAX_LEVEL:
            raise AgentRefused(f"Invoice {invoice.number} already had its final notice.")
        level = invoice.dunning_level + 1
        values = {
            "number": invoice.number,
            "customer_name": invoice.customer_name,
            "customer_email": invoice.customer_email,
            "amount": f"{invoice.amount:.2f}",
            "currency": invoice.currency,
            "due_date": invoice.due_date.isoformat(),
            "days_overdue": (today - invoice.due_date).days,
            "level": level,
        }
        facts = {
            "amount": invoice.amount,
            "due_date": invoice.due_date,
            "email": invoice.customer_email,
            "level": level,
            "tenant_id": invoice.tenant_id,
            "number": invoice.number,
            "currency": invoice.currency,
            "customer": invoice.customer_name,
        }
        label = f"Invoice {invoice.number} · {invoice.customer_name}"
        return Inputs("invoice", invoice.id, label, values, facts)

    def drafts(self, inputs: Inputs, output: Any, session: Session) -> list[Draft]:
        assert isinstance(output, DunningDraft)
        f = inputs.facts
        if output.stated_amount != f["amount"]:
            raise DraftRejected(
                f"The notice states {output.stated_amount}; invoice {f['number']} is for "
                f"{f['amount']:.2f}."
            )
        if output.stated_due_date != f["due_date"]:
            raise DraftRejected(
                f"The notice states due date {output.stated_due_date}; the invoice's is "
                f"{f['due_date']}."
            )
        level = int(f["level"])
        payload = {
            "to": f["email"],
            "subject": output.subject,
            "body": output.body,
            "level": level,
            "amount": f"{f['amount']:.2f}",
            "currency": f["currency"],
            "due_date": f["due_date"].isoformat(),
        }
        invoice = session.get(Invoice, inputs.subject_id)
        checked(session, self.kind, invoice, payload, inputs.context)
        return [
            Draft(
                kind=ReviewKind.DUNNING_NOTICE,
                payload=payload,
                confidence=output.confidence,
                risk=[Risk.LOW, Risk.MEDIUM, Risk.HIGH][level - 1],
                search_text=f"{f['number']} {f['customer']} level {level}",
                amount=float(f["amount"]),
                priority=1 if level == MAX_LEVEL else 2,
            )
        ]
