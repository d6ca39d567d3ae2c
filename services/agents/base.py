"""What every agent shares: its inputs, its drafts and refusals (SLAs are the tenant policy's)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.enums import ReviewKind, Risk
from domain.models import Tenant, User
from services.errors import ServiceError

DEFAULT_MAX_DISCOUNT_PCT = Decimal("20")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class AgentRefused(ServiceError):
    """A business rule forbids this run (do-not-contact, wrong state): retrying cannot help."""

    title = "Agent refused"


class DraftRejected(ServiceError):
    """The model's answer broke a business rule; another attempt may do better."""

    title = "Draft rejected"


@dataclass
class Inputs:
    """What an agent loaded for its prompt, and the facts its post-checks compare against."""

    subject_type: str
    subject_id: int
    subject_label: str
    values: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def context(self) -> str:
        """Everything the agent showed the model: what a draft may legitimately repeat."""
        return " ".join(str(v) for v in self.values.values())


@dataclass
class Draft:
    """One review item to create."""

    kind: ReviewKind
    payload: dict[str, Any]
    confidence: float
    risk: Risk
    search_text: str
    amount: float | None = None
    priority: int = 2


class Agent(Protocol):
    name: str
    kind: ReviewKind  # the kind of review item it drafts
    subject_type: str
    prompt_key: str
    output: type[BaseModel]

    def load(self, session: Session, subject_id: int) -> Inputs: ...

    def drafts(self, inputs: Inputs, output: Any, session: Session) -> list[Draft]: ...


def tenant_of(session: Session, tenant_id: int) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise AgentRefused(f"Tenant #{tenant_id} no longer exists.")
    return tenant


def max_discount_pct(tenant: Tenant) -> Decimal:
    """The tenant's discount cap (tenant setting ``max_discount_pct``, default 20 %)."""
    raw = (tenant.settings or {}).get("max_discount_pct", DEFAULT_MAX_DISCOUNT_PCT)
    return Decimal(str(raw))


def foreign_data(
    session: Session, tenant_id: int, text: str, *, allowed_emails: set[str], context: str
) -> str | None:
    """What in a draft belongs to someone else, or None when the draft is clean.

    Flags another tenant's name or slug (unless the agent's own inputs, ``context``, mention
    it: then it is this tenant's data), and any e-mail address other than the allowed ones or
    one at a domain of this tenant's own users.
    """
    lowered, known = text.lower(), context.lower()
    for name, slug in session.execute(
        select(Tenant.name, Tenant.slug).where(Tenant.id != tenant_id)
    ).all():
        for token in {name.lower(), slug.lower()}:
            pattern = rf"\b{re.escape(token)}\b"
            if len(token) >= 4 and re.search(pattern, lowered) and not re.search(pattern, known):
                return f"another tenant's name ({name})"
    allowed = {e.lower() for e in allowed_emails}
    own_domains = {
        e.rsplit("@", 1)[-1].lower()
        for e in session.scalars(select(User.email).where(User.tenant_id == tenant_id))
    }
    for email in _EMAIL.findall(text):
        if email.lower() not in allowed and email.rsplit("@", 1)[-1].lower() not in own_domains:
            return f"an e-mail address that is not the recipient's ({email})"
    return None


def risk_max(*risks: Risk) -> Risk:
    order = [Risk.LOW, Risk.MEDIUM, Risk.HIGH]
    return max(risks, key=order.index)
