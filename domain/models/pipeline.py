from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from domain import transitions
from domain.base import Base, BigId, TenantScoped, Timestamped, Versioned, str_enum
from domain.enums import (
    ContractStatus,
    DealStage,
    EmailStatus,
    InvoiceStatus,
    LeadStatus,
    NegotiationParty,
)

Money = Numeric(14, 2)


class Lead(TenantScoped, Timestamped, Base):
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        Index("ix_leads_tenant_status_created", "tenant_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    industry: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[LeadStatus] = mapped_column(str_enum(LeadStatus), default=LeadStatus.NEW)
    do_not_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    last_contacted_at: Mapped[datetime | None]

    def record_contact(self, now: datetime) -> None:
        """An approved outreach email went out: a new lead becomes contacted."""
        self.last_contacted_at = now
        if self.status is LeadStatus.NEW:
            self.status = transitions.lead(self.status, LeadStatus.CONTACTED)


class Deal(TenantScoped, Timestamped, Versioned, Base):
    __tablename__ = "deals"
    __table_args__ = (Index("ix_deals_tenant_stage_created", "tenant_id", "stage", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    lead_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("leads.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    discount_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    stage: Mapped[DealStage] = mapped_column(str_enum(DealStage), default=DealStage.DISCOVERY)
    updated_at: Mapped[datetime | None]

    def record_offer(
        self, stage: DealStage, amount: Decimal, discount_pct: Decimal, now: datetime
    ) -> None:
        """Our approved proposal or counter-offer went out at these terms. A proposal moves a
        deal out of discovery; a counter-offer moves it to negotiation; neither moves it back."""
        if self.stage in (DealStage.CLOSED_WON, DealStage.CLOSED_LOST):
            closed = self.stage.value.replace("_", " ")
            raise transitions.InvalidTransition(
                "deal", self.stage, stage, f"Deal {self.name} is already {closed}."
            )
        moves_on = self.stage is DealStage.DISCOVERY or stage is DealStage.NEGOTIATION
        if moves_on and self.stage is not stage:
            self.stage = transitions.deal(self.stage, stage)
        self.amount = amount
        self.discount_pct = discount_pct
        self.updated_at = now


class NegotiationRound(TenantScoped, Timestamped, Base):
    __tablename__ = "negotiation_rounds"
    __table_args__ = (UniqueConstraint("deal_id", "round_no"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    deal_id: Mapped[int] = mapped_column(BigId, ForeignKey("deals.id", ondelete="CASCADE"))
    round_no: Mapped[int] = mapped_column(Integer)
    party: Mapped[NegotiationParty] = mapped_column(str_enum(NegotiationParty))
    amount: Mapped[Decimal] = mapped_column(Money)
    discount_pct: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    terms: Mapped[str | None] = mapped_column(Text)
    review_item_id: Mapped[int | None] = mapped_column(BigId)


class Contract(TenantScoped, Timestamped, Base):
    __tablename__ = "contracts"
    __table_args__ = (
        Index("ix_contracts_tenant_status_created", "tenant_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    deal_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("deals.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(64))
    status: Mapped[ContractStatus] = mapped_column(
        str_enum(ContractStatus), default=ContractStatus.DRAFT
    )
    value: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    signed_at: Mapped[datetime | None]

    def send(self) -> None:
        """The approved contract went to the customer."""
        self.status = transitions.contract(self.status, ContractStatus.SENT)


class Invoice(TenantScoped, Timestamped, Versioned, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_invoices_tenant_status_due", "tenant_id", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    contract_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contracts.id", ondelete="SET NULL")
    )
    lead_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("leads.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(64))
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_email: Mapped[str] = mapped_column(String(254))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    issued_at: Mapped[datetime | None]
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[InvoiceStatus] = mapped_column(
        str_enum(InvoiceStatus), default=InvoiceStatus.DRAFT
    )
    dunning_level: Mapped[int] = mapped_column(Integer, default=0)
    last_dunned_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]

    def record_notice(self, now: datetime) -> None:
        """An approved dunning notice went out: the next one is a level higher."""
        self.dunning_level += 1
        self.last_dunned_at = now


class EmailMessage(TenantScoped, Timestamped, Base):
    __tablename__ = "email_messages"
    __table_args__ = (
        Index("ix_email_messages_tenant_status_created", "tenant_id", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id", ondelete="CASCADE"))
    review_item_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("review_items.id", ondelete="SET NULL"), index=True
    )
    lead_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("leads.id", ondelete="SET NULL"))
    invoice_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("invoices.id", ondelete="SET NULL")
    )
    from_addr: Mapped[str] = mapped_column(String(254))
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[EmailStatus] = mapped_column(str_enum(EmailStatus))
    message_id: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
