"""Before/after audit of what executing an approved item changes on its subject (internal)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from domain.enums import ReviewKind
from domain.models import Contract, Deal, Invoice, Lead, ReviewItem
from services import audit
from services.uow import UnitOfWork

K = ReviewKind
_DEAL_FIELDS = ["stage", "amount", "discount_pct"]

# Per kind: the subject's model, the audit action, its entity type and the fields always shown.
# Any other column the executor changes is recorded as well (audit.changes); the investigation
# an RCA hypothesis writes to is audited by services/review/rca.py itself.
AUDITED: dict[ReviewKind, tuple[type[Any], str, str, list[str]]] = {
    K.OUTREACH_EMAIL: (Lead, "lead.contacted", "lead", ["status", "last_contacted_at"]),
    K.DUNNING_NOTICE: (Invoice, "invoice.dunned", "invoice", ["dunning_level", "last_dunned_at"]),
    K.DEAL_PROPOSAL: (Deal, "deal.proposed", "deal", _DEAL_FIELDS),
    K.COUNTER_OFFER: (Deal, "deal.countered", "deal", _DEAL_FIELDS),
    K.CONTRACT: (Contract, "contract.sent", "contract", ["status"]),
}


def subject_changes(uow: UnitOfWork, item: ReviewItem) -> AbstractContextManager[None]:
    """Audit, in the same transaction, what the block changes on the item's subject row."""
    audited = AUDITED.get(item.kind)
    row = uow.session.get(audited[0], item.subject_id) if audited else None
    if audited is None or row is None:
        return nullcontext()
    _, action, entity_type, fields = audited
    return audit.changes(
        uow,
        row,
        action=action,
        entity_type=entity_type,
        fields=fields,
        reason=f"review item #{item.id}",
        tenant_id=item.tenant_id,
    )
