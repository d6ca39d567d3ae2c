"""Typed review payloads per kind, drafted the way the agents would write them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.enums import DealStage, InvoiceStatus, NegotiationParty, ReviewKind, Role
from domain.models import AgentRun, Contract, Deal, Invoice, Lead
from services.seed.context import DemoContext
from services.seed.demo_scenarios import SCENARIOS
from services.seed.vocab import COMPANIES, pick


@dataclass
class Draft:
    subject_type: str
    subject_id: int
    subject_label: str
    payload: dict[str, Any]
    key_text: str  # what search should find besides the label
    amount: float | None = None


HOOKS = [
    "Congrats on the new site in {city} — scaling a second line is usually where {pain} bites.",
    "I saw {company} is hiring for {team}; teams at that stage often wrestle with {pain}.",
    "Your {title} peers in {industry} keep telling us {pain} is the top cost driver this year.",
]
PAINS = ["manual changeovers", "unplanned downtime", "late deliveries", "picking errors"]
CITIES = ["Rotterdam", "Lyon", "Poznań", "Austin", "Gothenburg", "Monterrey", "Leipzig"]
TEAMS = ["operations", "automation engineering", "logistics", "continuous improvement"]
WEEKDAYS = ["Tuesday", "Wednesday", "Thursday"]
CONTRACT_NOTES = [
    "nothing non-standard",
    "customer-specific SLA of 99.9% with service credits",
    "payment terms extended to net-60",
    "liability cap raised to 24 months' fees — needs legal sign-off",
]
DUNNING_SUBJECTS = {
    1: "Friendly reminder: invoice {number} is {days} days overdue",
    2: "Second reminder: invoice {number} remains unpaid",
    3: "Final notice before collection: invoice {number}",
}
DUNNING_OPENERS = {
    1: "This is a friendly reminder that invoice {number} over {amount} {currency} was due on "
    "{due}. If you have already paid, please ignore this message.",
    2: "We have not yet received payment for invoice {number} over {amount} {currency}, now "
    "{days} days overdue. Please arrange payment within 7 days.",
    3: "Despite two reminders, invoice {number} over {amount} {currency} is {days} days overdue. "
    "Unless we receive payment within 5 business days we will hand the matter to our "
    "collection partner.",
}


def money(value: Any) -> float:
    return round(float(value), 2)


def draft(ctx: DemoContext, kind: ReviewKind, run: AgentRun, at: datetime) -> Draft:
    """The draft an agent run produced for a review item of this kind."""
    return {
        ReviewKind.OUTREACH_EMAIL: _outreach,
        ReviewKind.DEAL_PROPOSAL: _proposal,
        ReviewKind.COUNTER_OFFER: _counter,
        ReviewKind.CONTRACT: _contract,
        ReviewKind.DUNNING_NOTICE: _dunning,
        ReviewKind.RCA_HYPOTHESIS: _rca,
    }[kind](ctx, run, at)


def outreach_for(ctx: DemoContext, lead: Lead) -> Draft:
    """An outreach email to one lead."""
    rng = ctx.rng
    first = lead.name.split()[0]
    product = pick(rng, ctx.spec.products)
    ref_company = pick(rng, [c for c, _, _ in COMPANIES if c != lead.company])
    hook = pick(rng, HOOKS).format(
        city=pick(rng, CITIES),
        pain=pick(rng, PAINS),
        company=lead.company,
        team=pick(rng, TEAMS),
        title=lead.title or "operations",
        industry=lead.industry or "your industry",
    )
    subject = pick(
        rng,
        [
            f"{first}, an idea for {lead.company}",
            f"{product.capitalize()} for {lead.company}?",
            f"Quick question about {lead.company}'s {pick(rng, PAINS)}",
        ],
    )
    body = (
        f"Hi {first},\n\n{hook}\n\n{ref_company} uses our {product} and cut {pick(rng, PAINS)} "
        f"by {rng.randint(12, 38)}% in the first quarter. Would 20 minutes next "
        f"{pick(rng, WEEKDAYS)} be useful to see whether it fits {lead.company}?\n\n"
        f"Best regards,\n{ctx.users[Role.SDR].display_name}\n{ctx.spec.name}"
    )
    payload = {"to": lead.email, "subject": subject, "body": body}
    label = f"{lead.name} · {lead.company}"
    return Draft("lead", lead.id, label, payload, f"{lead.email} {subject}")


def _outreach(ctx: DemoContext, run: AgentRun, at: datetime) -> Draft:
    leads = {ld.id: ld for ld in ctx.pipeline.leads}
    return outreach_for(ctx, leads[run.subject_id])


def _deal(ctx: DemoContext, run: AgentRun, stage: DealStage | None = None) -> Deal:
    deals = {d.id: d for d in ctx.pipeline.deals}
    deal = deals[run.subject_id]
    if stage and deal.stage != stage:
        deal = pick(ctx.rng, [d for d in ctx.pipeline.deals if d.stage == stage])
    return deal


def _proposal(ctx: DemoContext, run: AgentRun, at: datetime) -> Draft:
    rng = ctx.rng
    deal = _deal(ctx, run)
    discount = rng.choice([0, 5, 8, 10, 12, 15, 18])
    amount = money(float(deal.amount) * (1 - discount / 100))
    years, net = rng.choice([1, 2, 3]), rng.choice([30, 45, 60])
    terms = (
        f"{years}-year term, net-{net} payment, {discount}% discount on list; "
        f"includes onboarding and {rng.choice(['8x5', '24/7'])} support."
    )
    payload: dict[str, Any] = {
        "deal_id": deal.id,
        "amount": amount,
        "discount_pct": float(discount),
    }
    payload |= {"currency": deal.currency, "terms_summary": terms}
    return Draft("deal", deal.id, deal.name, payload, terms, amount)


def _counter(ctx: DemoContext, run: AgentRun, at: datetime) -> Draft:
    rng = ctx.rng
    deal = _deal(ctx, run, DealStage.NEGOTIATION)
    asked = [
        r
        for r in ctx.pipeline.rounds
        if r.deal_id == deal.id and r.party == NegotiationParty.CUSTOMER
    ]
    their = float(asked[-1].discount_pct) if asked else float(deal.discount_pct) + 8
    ours = max(0.0, round(their - rng.choice([3, 4, 5, 6]), 1))
    amount = money(float(deal.amount) * (1 - ours / 100))
    rationale = (
        f"Customer asked for {their:g}% off. Counter at {ours:g}% keeps margin above the 28% "
        f"floor; offer {rng.choice(['net-45 terms', 'free installation', 'a 36-month price lock'])}"
        " instead of a deeper discount."
    )
    payload = {"deal_id": deal.id, "amount": amount, "discount_pct": ours, "rationale": rationale}
    return Draft("deal", deal.id, deal.name, payload, rationale, amount)


def _contract(ctx: DemoContext, run: AgentRun, at: datetime) -> Draft:
    rng = ctx.rng
    by_deal = [c for c in ctx.pipeline.contracts if c.deal_id == run.subject_id]
    contract: Contract = by_deal[0] if by_deal else pick(rng, ctx.pipeline.contracts)
    deals = {d.id: d for d in ctx.pipeline.deals}
    company = deals[contract.deal_id or 0].name.split(" — ")[0] if contract.deal_id else "customer"
    years = max(
        1, round(((contract.end_date or at.date()) - (contract.start_date or at.date())).days / 365)
    )
    summary = (
        f"{contract.number}: {years}-year agreement with {company} worth "
        f"{money(contract.value):,.2f} {contract.currency}; auto-renews unless cancelled 90 days "
        f"before term end; liability capped at 12 months' fees; {pick(rng, CONTRACT_NOTES)}."
    )
    payload = {"contract_id": contract.id, "summary": summary}
    label = f"{contract.number} · {company}"
    return Draft("contract", contract.id, label, payload, summary, money(contract.value))


def _dunning(ctx: DemoContext, run: AgentRun, at: datetime) -> Draft:
    rng = ctx.rng
    # Only invoices already past due when the notice was drafted; the earliest due if none is.
    overdue = [i for i in ctx.pipeline.invoices if i.status == InvoiceStatus.OVERDUE]
    due_then = [i for i in overdue if i.due_date < at.date()]
    by_id = {i.id: i for i in due_then}
    fallback = pick(rng, due_then) if due_then else min(overdue, key=lambda i: i.due_date)
    invoice: Invoice = by_id.get(run.subject_id) or fallback
    days = max(1, (at.date() - invoice.due_date).days)
    level = 1 if days < 14 else (2 if days < 28 else 3)
    amount = money(invoice.amount)
    fmt = {"number": invoice.number, "days": days, "amount": f"{amount:,.2f}"}
    fmt |= {"currency": invoice.currency, "due": invoice.due_date.isoformat()}
    subject = DUNNING_SUBJECTS[level].format(**fmt)
    body = (
        f"Dear {invoice.customer_name} accounts team,\n\n{DUNNING_OPENERS[level].format(**fmt)}"
        f"\n\nBank details and a copy of the invoice are attached.\n\nKind regards,\n"
        f"{ctx.users[Role.FINANCE].display_name}\nAccounts Receivable, {ctx.spec.name}"
    )
    payload = {
        "invoice_id": invoice.id,
        "invoice_number": invoice.number,
        "amount_due": amount,
        "days_overdue": days,
        "level": level,
        "to": invoice.customer_email,
        "subject": subject,
        "body": body,
    }
    label = f"{invoice.number} · {invoice.customer_name}"
    key = f"{invoice.number} {invoice.customer_email} {subject}"
    return Draft("invoice", invoice.id, label, payload, key, amount)


def _rca(ctx: DemoContext, run: AgentRun, at: datetime) -> Draft:
    rng = ctx.rng
    investigations = {i.id: i for i in ctx.incidents.investigations}
    inv = investigations[run.subject_id]
    scenario = next(s for s in SCENARIOS if s.title == inv.title)
    cited = [ln.event_id for ln in ctx.incidents.links if ln.investigation_id == inv.id][:3]
    hypothesis = (
        f"Most likely cause: '{scenario.commit}' on {scenario.component}. {scenario.root_cause}"
    )
    confidence = round(rng.uniform(0.45, 0.92), 2)
    payload: dict[str, Any] = {"investigation_id": inv.id, "hypothesis": hypothesis}
    payload |= {"cited_event_ids": cited, "confidence": confidence}
    return Draft("investigation", inv.id, inv.title, payload, hypothesis)
