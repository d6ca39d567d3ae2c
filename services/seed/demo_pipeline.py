"""Demo revenue pipeline: leads, deals, negotiation rounds, contracts and invoices."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from domain.enums import (
    ContractStatus,
    DealStage,
    InvoiceStatus,
    LeadStatus,
    NegotiationParty,
    Role,
)
from domain.models import Contract, Deal, Invoice, Lead, NegotiationRound
from services.seed.context import DemoContext
from services.seed.vocab import COMPANIES, FIRST_NAMES, LAST_NAMES, TITLES, between, pick, spread

CONTRACTS = 40
DO_NOT_CONTACT = 7
CENT = Decimal("0.01")


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, -2) if value > 1000 else round(value, 2))).quantize(CENT)


def seed_pipeline(ctx: DemoContext) -> None:
    """Leads, deals, rounds, contracts and invoices for one tenant, all flushed."""
    _leads(ctx)
    _deals(ctx)
    _rounds(ctx)
    _contracts(ctx)
    _invoices(ctx)


def _leads(ctx: DemoContext) -> None:
    rng, now = ctx.rng, ctx.now
    statuses = spread(
        rng,
        {
            LeadStatus.NEW: 70,
            LeadStatus.CONTACTED: 60,
            LeadStatus.QUALIFIED: 30,
            LeadStatus.DISQUALIFIED: 20,
            LeadStatus.CONVERTED: 20,
        },
    )
    dnc = set(rng.sample(range(len(statuses)), DO_NOT_CONTACT))
    seen: set[str] = set()
    leads = []
    for i, status in enumerate(statuses):
        first, last = pick(rng, FIRST_NAMES), pick(rng, LAST_NAMES)
        company, domain, industry = pick(rng, COMPANIES)
        local = re.sub(r"[^a-z.]", "", f"{first}.{last}".lower())
        email, n = f"{local}@{domain}", 2
        while email in seen:
            email, n = f"{local}{n}@{domain}", n + 1
        seen.add(email)
        created = between(rng, now - timedelta(days=120), now - timedelta(hours=2))
        contacted = status != LeadStatus.NEW
        leads.append(
            Lead(
                tenant_id=ctx.tenant_id,
                email=email,
                name=f"{first} {last}",
                company=company,
                title=pick(rng, TITLES),
                industry=industry,
                status=status,
                do_not_contact=i in dnc,
                notes="Asked not to be contacted again (GDPR objection)." if i in dnc else None,
                last_contacted_at=between(rng, created, now) if contacted else None,
                created_at=created,
            )
        )
    ctx.save(leads)
    ctx.pipeline.leads = leads


def _deals(ctx: DemoContext) -> None:
    rng, now = ctx.rng, ctx.now
    warm = [
        ld for ld in ctx.pipeline.leads if ld.status in {LeadStatus.QUALIFIED, LeadStatus.CONVERTED}
    ]
    stages = spread(
        rng,
        {
            DealStage.DISCOVERY: 12,
            DealStage.PROPOSAL: 14,
            DealStage.NEGOTIATION: 14,
            DealStage.CLOSED_WON: 12,
            DealStage.CLOSED_LOST: 8,
        },
    )
    eur, usd = ctx.spec.currency_weights
    deals = []
    for stage in stages:
        lead = pick(rng, warm)
        created = between(rng, lead.created_at, now - timedelta(hours=1))
        amount = rng.lognormvariate(10.6, 0.8)  # median ~40k, tail into the hundreds of thousands
        discount = 0 if stage == DealStage.DISCOVERY else rng.choice([0, 5, 7.5, 10, 12, 15, 20])
        deals.append(
            Deal(
                tenant_id=ctx.tenant_id,
                lead_id=lead.id,
                owner_id=ctx.user_id(Role.SALES),
                name=f"{lead.company} — {pick(rng, ctx.spec.products)}",
                amount=_money(min(max(amount, 4_000), 450_000)),
                currency=rng.choices(["EUR", "USD"], weights=[eur, usd])[0],
                discount_pct=Decimal(str(discount)).quantize(CENT),
                stage=stage,
                updated_at=between(rng, created, now),
                created_at=created,
            )
        )
    ctx.save(deals)
    ctx.pipeline.deals = deals


def _rounds(ctx: DemoContext) -> None:
    rng = ctx.rng
    rounds = []
    for deal in ctx.pipeline.deals:
        if deal.stage != DealStage.NEGOTIATION:
            continue
        amount, discount = deal.amount, deal.discount_pct
        at = deal.created_at + timedelta(days=rng.uniform(2, 10))
        for no in range(1, rng.randint(1, 4) + 1):
            party = NegotiationParty.US if no % 2 else NegotiationParty.CUSTOMER
            if party == NegotiationParty.CUSTOMER:
                discount = min(discount + Decimal(rng.choice([3, 5, 8])), Decimal(30))
                terms = rng.choice(
                    [
                        "Asks for net-60 payment terms and a price cut.",
                        "Wants installation included at no extra cost.",
                        "Competing quote is 12% lower; asks us to match.",
                    ]
                )
            else:
                discount = max(discount - Decimal(2), Decimal(0))
                terms = rng.choice(
                    [
                        "Net-45, three-year term, price held.",
                        "Installation included if signed this quarter.",
                        "Extra 2% for a 36-month commitment.",
                    ]
                )
            rounds.append(
                NegotiationRound(
                    tenant_id=ctx.tenant_id,
                    deal_id=deal.id,
                    round_no=no,
                    party=party,
                    amount=(amount * (1 - discount / 100)).quantize(CENT),
                    discount_pct=discount.quantize(CENT),
                    terms=terms,
                    created_at=min(at, ctx.now - timedelta(minutes=30)),
                )
            )
            at += timedelta(days=rng.uniform(0.5, 4))
    ctx.save(rounds)
    ctx.pipeline.rounds = rounds


def _contracts(ctx: DemoContext) -> None:
    rng, now = ctx.rng, ctx.now
    won = [d for d in ctx.pipeline.deals if d.stage == DealStage.CLOSED_WON]
    late = [d for d in ctx.pipeline.deals if d.stage in {DealStage.PROPOSAL, DealStage.NEGOTIATION}]
    contracts = []
    for no in range(1, CONTRACTS + 1):
        if no <= len(won):
            deal, status = won[no - 1], ContractStatus.SIGNED
        else:
            deal = pick(rng, late) if rng.random() < 0.8 else pick(rng, won)
            status = pick(rng, list(ContractStatus))
        created = between(rng, deal.created_at, now - timedelta(hours=3))
        start = (created + timedelta(days=rng.randint(7, 30))).date()
        signed = status == ContractStatus.SIGNED
        contracts.append(
            Contract(
                tenant_id=ctx.tenant_id,
                deal_id=deal.id,
                number=f"CTR-{created.year}-{no:04d}",
                status=status,
                value=(deal.amount * (1 - deal.discount_pct / 100)).quantize(CENT),
                currency=deal.currency,
                start_date=start,
                end_date=start + timedelta(days=365 * rng.choice([1, 2, 3])),
                signed_at=between(rng, created, now) if signed else None,
                created_at=created,
            )
        )
    ctx.save(contracts)
    ctx.pipeline.contracts = contracts


def _invoices(ctx: DemoContext) -> None:
    rng, now = ctx.rng, ctx.now
    signed = [c for c in ctx.pipeline.contracts if c.status == ContractStatus.SIGNED]
    deals = {d.id: d for d in ctx.pipeline.deals}
    leads = {ld.id: ld for ld in ctx.pipeline.leads}
    statuses = spread(
        rng,
        {
            InvoiceStatus.DRAFT: 8,
            InvoiceStatus.ISSUED: 22,
            InvoiceStatus.PAID: 30,
            InvoiceStatus.OVERDUE: 16,
            InvoiceStatus.VOID: 4,
        },
    )
    invoices = []
    for no, status in enumerate(statuses, start=1):
        contract = pick(rng, signed)
        lead = leads[deals[contract.deal_id or 0].lead_id or 0]
        issued = None
        if status == InvoiceStatus.OVERDUE:
            # 3 to 75 days past due: dunning level follows the age (0-3)
            due = (now - timedelta(days=rng.randint(3, 75))).date()
            issued = now - timedelta(days=(now.date() - due).days + 30, hours=rng.uniform(0, 8))
        elif status == InvoiceStatus.ISSUED:
            issued = now - timedelta(days=rng.uniform(1, 29))
        elif status in {InvoiceStatus.PAID, InvoiceStatus.VOID}:
            issued = now - timedelta(days=rng.uniform(20, 150))
        created = (issued or now - timedelta(days=rng.uniform(0.2, 3))) - timedelta(hours=2)
        due_date = ((issued or now) + timedelta(days=30)).date()
        days_over = (now.date() - due_date).days
        level = 0
        if status == InvoiceStatus.OVERDUE:
            level = min(3, days_over // 14) if days_over >= 7 else 0
        invoices.append(
            Invoice(
                tenant_id=ctx.tenant_id,
                contract_id=contract.id,
                lead_id=lead.id,
                number=f"INV-{created.year}-{no:04d}",
                customer_name=lead.company,
                customer_email=f"accounts-payable@{lead.email.split('@')[1]}",
                amount=_money(float(contract.value) / rng.choice([1, 3, 4, 12])),
                currency=contract.currency,
                issued_at=issued,
                due_date=due_date,
                status=status,
                dunning_level=level,
                last_dunned_at=now - timedelta(days=rng.uniform(1, 10)) if level else None,
                paid_at=between(rng, issued, now)
                if issued and status == InvoiceStatus.PAID
                else None,
                created_at=created,
            )
        )
    ctx.save(invoices)
    ctx.pipeline.invoices = invoices
