"""Business rows for agent tests, written the way seeding does (system work per tenant)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.base import utcnow
from domain.enums import (
    EventSeverity,
    EventSource,
    InvoiceStatus,
    LinkStatus,
    NegotiationParty,
    Severity,
)
from domain.models import (
    Deal,
    Event,
    EventLink,
    Investigation,
    Invoice,
    Lead,
    NegotiationRound,
    Tenant,
)
from services.uow import UnitOfWork


def add(tenant_id: int, *rows: Any) -> list[int]:
    with UnitOfWork(None, tenant_id=tenant_id) as uow:
        for row in rows:
            row.tenant_id = tenant_id
            uow.session.add(row)
        uow.session.flush()
        ids = [r.id for r in rows]
        uow.commit()
    return ids


def lead(
    tenant_id: int, *, email: str = "ada@acme.test", dnc: bool = False, company: str = "Acme"
) -> int:
    row = Lead(email=email, name="Ada Lovelace", company=company, title="CTO", do_not_contact=dnc)
    return add(tenant_id, row)[0]


def deal(tenant_id: int, *, amount: str = "10000.00", rounds: int = 0) -> int:
    deal_id = add(tenant_id, Deal(name="Acme platform", amount=Decimal(amount), currency="EUR"))[0]
    for n in range(1, rounds + 1):
        party = NegotiationParty.CUSTOMER if n % 2 else NegotiationParty.US
        offer = NegotiationRound(
            deal_id=deal_id, round_no=n, party=party, amount=Decimal(amount) * Decimal("0.8")
        )
        add(tenant_id, offer)
    return deal_id


def overdue_invoice(tenant_id: int, *, level: int = 0) -> int:
    row = Invoice(
        number="INV-2026-0042",
        customer_name="Acme GmbH",
        customer_email="ap@acme.test",
        amount=Decimal("1234.50"),
        currency="EUR",
        due_date=date(2026, 10, 1),
        status=InvoiceStatus.OVERDUE,
        dunning_level=level,
    )
    return add(tenant_id, row)[0]


def investigation_with_events(tenant_id: int, events: int = 3) -> tuple[int, list[int]]:
    now = utcnow()
    inv_id = add(
        tenant_id,
        Investigation(title="Checkout errors", severity=Severity.HIGH, detected_at=now),
    )[0]
    rows = [
        Event(
            source=EventSource.LOGS,
            type="error",
            occurred_at=now - timedelta(minutes=10 - i),
            severity=EventSeverity.HIGH,
            service="checkout",
            title=f"500s on /pay #{i}",
            payload_hash=f"{i:064d}",
            external_id=f"ev-{tenant_id}-{i}",
        )
        for i in range(events)
    ]
    event_ids = add(tenant_id, *rows)
    links = [
        EventLink(investigation_id=inv_id, event_id=e, status=LinkStatus.ACCEPTED)
        for e in event_ids
    ]
    add(tenant_id, *links)
    return inv_id, event_ids


def set_discount_cap(tenant_id: int, pct: int) -> None:
    with UnitOfWork(None) as uow:
        tenant = uow.session.get(Tenant, tenant_id)
        assert tenant is not None
        tenant.settings = {**tenant.settings, "max_discount_pct": pct}
        uow.commit()
