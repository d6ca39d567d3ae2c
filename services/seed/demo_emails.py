"""Demo outbound mail: what executed drafts sent, what failed, and some older outreach."""

from __future__ import annotations

from datetime import timedelta

from domain.enums import EmailStatus, LeadStatus, ReviewKind, ReviewStatus, Role
from domain.models import EmailMessage, ReviewItem
from services.seed.context import DemoContext
from services.seed.demo_payloads import outreach_for
from services.seed.vocab import hex_id

HISTORICAL_OUTREACH = 12
MAILED_KINDS = {ReviewKind.OUTREACH_EMAIL, ReviewKind.DUNNING_NOTICE}


def seed_emails(ctx: DemoContext, items: list[ReviewItem]) -> None:
    """Email messages for executed and failed mail drafts, plus older sent outreach."""
    rng, domain = ctx.rng, ctx.spec.domain
    # acme runs in the sandbox (no SMTP configured); globex has a relay.
    sent_share = 0.2 if ctx.spec.slug == "acme" else 0.85
    invoices = {i.id: i for i in ctx.pipeline.invoices}
    rows = []
    for item in items:
        if item.kind not in MAILED_KINDS or item.status not in {
            ReviewStatus.EXECUTED,
            ReviewStatus.FAILED,
        }:
            continue
        outreach = item.kind == ReviewKind.OUTREACH_EMAIL
        invoice = None if outreach else invoices[item.subject_id]
        sender = ctx.users[Role.SDR if outreach else Role.FINANCE]
        if item.status == ReviewStatus.FAILED:
            status = EmailStatus.FAILED
        else:
            status = EmailStatus.SENT if rng.random() < sent_share else EmailStatus.SANDBOXED
        at = item.executed_at or item.decided_at or item.created_at
        rows.append(
            EmailMessage(
                tenant_id=ctx.tenant_id,
                review_item_id=item.id,
                lead_id=item.subject_id if outreach else (invoice.lead_id if invoice else None),
                invoice_id=invoice.id if invoice else None,
                from_addr=f"{sender.display_name} <{sender.email}>",
                to_addr=item.payload["to"],
                subject=item.payload["subject"],
                body=item.payload["body"],
                status=status,
                message_id=f"<{hex_id(rng, 24)}@{domain}>" if status == EmailStatus.SENT else None,
                error=item.execution_error if status == EmailStatus.FAILED else None,
                sent_at=at if status == EmailStatus.SENT else None,
                created_at=at,
            )
        )
    contacted = [ld for ld in ctx.pipeline.leads if ld.status == LeadStatus.CONTACTED]
    sender = ctx.users[Role.SDR]
    for lead in rng.sample(contacted, min(HISTORICAL_OUTREACH, len(contacted))):
        draft = outreach_for(ctx, lead)
        at = (lead.last_contacted_at or ctx.now) - timedelta(minutes=rng.uniform(0, 30))
        rows.append(
            EmailMessage(
                tenant_id=ctx.tenant_id,
                lead_id=lead.id,
                from_addr=f"{sender.display_name} <{sender.email}>",
                to_addr=lead.email,
                subject=draft.payload["subject"],
                body=draft.payload["body"],
                status=EmailStatus.SENT,
                message_id=f"<{hex_id(rng, 24)}@{domain}>",
                sent_at=at,
                created_at=at,
            )
        )
    ctx.save(rows)
