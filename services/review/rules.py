"""One check per draft kind: its typed fields and deterministic business rules.

The agents run these on what the model drafted, and the review services run them again on
every approval, on a reviewer's edit and on a retry, so an edit can never carry what a draft
could not. A refusal is a ``DraftInvalid`` naming the field and the rule; it writes nothing.
Contact rules that depend on what was sent (do-not-contact, cadences) live in ``contact``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from domain.enums import ReviewKind
from domain.models import Contract, Deal, Investigation, Invoice, Lead, Tenant
from services.agents.base import DEFAULT_MAX_DISCOUNT_PCT, foreign_data
from services.errors import InvalidInput
from services.review import action

K = ReviewKind
MAX_MONEY = Decimal("1000000000000")  # a trillion: beyond any deal, inside Numeric(14, 2)
CENT = Decimal("0.01")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")

# What a reviewer may change, per kind: exactly the fields execution reads from the payload.
# Everything else (ids, the invoice's amount and level, round numbers, cited events) describes
# the record the item is about; approving acts on that record, so an edit there could not happen.
EDITABLE: Mapping[ReviewKind, tuple[str, ...]] = {
    K.OUTREACH_EMAIL: ("to", "subject", "body"),
    K.DUNNING_NOTICE: ("subject", "body"),
    K.DEAL_PROPOSAL: ("price", "amount", "discount_pct", "terms_summary", "terms"),
    K.COUNTER_OFFER: ("amount", "discount_pct", "message", "rationale", "terms"),
    K.CONTRACT: (),
    K.RCA_HYPOTHESIS: (
        *("title", "explanation", "summary", "hypothesis", "root_cause"),
        *("notes", "remediation", "evidence"),
    ),
    # The external agent that asked carries the approved payload out itself, so all of it is
    # honoured; how it is shown (display) stays as submitted.
    K.ACTION: ("title", "summary", "data"),
}
MONEY_FIELDS = frozenset({"price", "amount", "discount_pct"})


class DraftInvalid(InvalidInput):
    """A draft (or a reviewer's edit of one) breaks a rule of its kind; nothing was written."""

    def __init__(self, field: str, rule: str, message: str) -> None:
        super().__init__(f"{message} (field: {field}; rule: {rule}).")
        self.field = field
        self.rule = rule


@dataclass(frozen=True)
class Checked:
    """What a valid draft means: the offered amount and discount of a deal draft, the recipient."""

    amount: Decimal | None = None
    discount_pct: Decimal | None = None
    to: str | None = None


def number(value: object, field: str) -> Decimal:
    """A finite decimal from a JSON number or a plain decimal string; DraftInvalid otherwise."""
    if isinstance(value, bool) or value is None:
        raise DraftInvalid(field, "number", f"The {field} must be a number, not {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise DraftInvalid(field, "finite number", f"The {field} {value!r} is not a finite number")
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise DraftInvalid(field, "finite number", f"The {field} {value} is not finite")
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.lower().lstrip("+-") in {"nan", "snan", "inf", "infinity"}:
            raise DraftInvalid(field, "finite number", f"The {field} {value!r} is not a number")
        if _NUMBER.fullmatch(text):
            try:
                return Decimal(text)
            except InvalidOperation:  # pragma: no cover - the pattern only lets decimals in
                pass
        raise DraftInvalid(
            field, "number", f"The {field} {value[:40]!r} is not a plain number like 1200.50"
        )
    raise DraftInvalid(
        field, "number", f"The {field} must be a number, not a {type(value).__name__}"
    )


def money(value: object, field: str, currency: str = "") -> Decimal:
    """A positive amount of at most two decimals and below a trillion."""
    amount = number(value, field)
    if amount <= 0:
        raise DraftInvalid(
            field,
            "positive money",
            f"The {field} {amount} {currency}".rstrip() + " is not positive",
        )
    if amount > MAX_MONEY:
        raise DraftInvalid(field, "money range", f"The {field} {amount} is above {MAX_MONEY:,}")
    if amount != amount.quantize(CENT):
        raise DraftInvalid(field, "cents", f"The {field} {amount} has more than two decimals")
    return amount.quantize(CENT)


def percent(value: object, field: str) -> Decimal:
    """A percentage from 0 to 100 with at most two decimals."""
    pct = number(value, field)
    if not Decimal(0) <= pct <= Decimal(100):
        raise DraftInvalid(field, "percentage", f"The {field} {pct} is not between 0 and 100")
    if pct != pct.quantize(CENT):
        raise DraftInvalid(field, "cents", f"The {field} {pct} has more than two decimals")
    return pct.quantize(CENT)


def text(payload: Mapping[str, Any], field: str, *, required: bool, limit: int) -> str:
    """A string field (blank allowed only when not required), without NUL characters."""
    value = payload.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise DraftInvalid(field, "text", f"The {field} must be text, not {type(value).__name__}")
    if required and not value.strip():
        raise DraftInvalid(field, "required", f"The {field} is empty")
    if len(value) > limit:
        raise DraftInvalid(field, "length", f"The {field} is {len(value)} characters long")
    if "\x00" in value:
        raise DraftInvalid(field, "text", f"The {field} contains a NUL character")
    return value


def email(value: object, field: str) -> str:
    """One plain e-mail address (no display name, no second address, no line breaks)."""
    if not isinstance(value, str) or not _EMAIL.fullmatch(value.strip()) or len(value) > 254:
        shown = value[:80] if isinstance(value, str) else value
        raise DraftInvalid(field, "e-mail address", f"The {field} {shown!r} is not one address")
    return value.strip()


def pct_text(value: Decimal) -> str:
    """A percentage as people write it: 20, 12.5."""
    return f"{value.normalize():f}"


def discount_cap(tenant: Tenant | None) -> Decimal:
    """The tenant's discount cap (setting ``max_discount_pct``); the default if it is damaged."""
    raw = ((tenant.settings or {}) if tenant else {}).get("max_discount_pct")
    try:
        return percent(raw, "max_discount_pct") if raw is not None else DEFAULT_MAX_DISCOUNT_PCT
    except InvalidInput:  # a damaged setting must not open the gate: the strict default holds
        return DEFAULT_MAX_DISCOUNT_PCT


def _foreign(session: Session, tenant_id: int, body: str, allowed: set[str], context: str) -> None:
    leak = foreign_data(session, tenant_id, body, allowed_emails=allowed, context=context)
    if leak:
        raise DraftInvalid("body", "no foreign data", f"The draft mentions {leak}")


def _outreach(session: Session, lead: Lead, payload: Mapping[str, Any], context: str) -> Checked:
    to = email(payload.get("to") or lead.email, "to")
    domain, own = to.rsplit("@", 1)[-1].lower(), lead.email.rsplit("@", 1)[-1].lower()
    if domain != own:
        raise DraftInvalid(
            "to",
            "recipient domain",
            f"The recipient {to} is not at the lead's own domain ({own}); outreach goes only to "
            "the lead's organisation",
        )
    body = f"{text(payload, 'subject', required=True, limit=200)}\n"
    body += text(payload, "body", required=True, limit=10_000)
    _foreign(session, lead.tenant_id, body, {to, lead.email}, context)
    return Checked(to=to)


def _dunning(session: Session, invoice: Invoice, payload: Mapping[str, Any], ctx: str) -> Checked:
    body = f"{text(payload, 'subject', required=True, limit=200)}\n"
    body += text(payload, "body", required=True, limit=10_000)
    _foreign(session, invoice.tenant_id, body, {invoice.customer_email}, ctx)
    return Checked(to=invoice.customer_email)


def deal_terms(payload: Mapping[str, Any], deal: Deal) -> tuple[Decimal, Decimal]:
    """The offered amount (``price``, else ``amount``) and discount a deal draft carries."""
    field = "price" if "price" in payload else "amount"
    if payload.get(field) is None:
        raise DraftInvalid(field, "required", f"The draft names no {field}")
    amount = money(payload[field], field, deal.currency)
    raw = payload.get("discount_pct")
    return amount, percent(raw, "discount_pct") if raw is not None else deal.discount_pct


def _deal(session: Session, deal: Deal, payload: Mapping[str, Any], context: str) -> Checked:
    amount, discount = deal_terms(payload, deal)
    cap = discount_cap(session.get(Tenant, deal.tenant_id))
    if discount > cap:
        raise DraftInvalid(
            "discount_pct",
            "discount cap",
            f"The discount of {pct_text(discount)}% is above the cap: the tenant's cap is "
            f"{pct_text(cap)}%",
        )
    currency = payload.get("currency", deal.currency)
    if currency != deal.currency:
        raise DraftInvalid(
            "currency", "currency", f"The currency {currency!r} is not the deal's ({deal.currency})"
        )
    floor = (deal.amount * (1 - cap / 100)).quantize(CENT)
    if not floor <= amount <= deal.amount:
        field = "price" if "price" in payload else "amount"
        raise DraftInvalid(
            field,
            "price range",
            f"The {field} {amount:,.2f} {deal.currency} is outside {floor:,.2f} to "
            f"{deal.amount:,.2f}: the list price less at most the {pct_text(cap)}% cap",
        )
    words = " ".join(
        text(payload, key, required=False, limit=10_000)
        for key in ("terms_summary", "terms", "message", "rationale")
    )
    _foreign(session, deal.tenant_id, words, set(), context)
    return Checked(amount=amount, discount_pct=discount)


def _contract(
    session: Session, contract: Contract, payload: Mapping[str, Any], ctx: str
) -> Checked:
    return Checked()  # nothing in a contract draft is editable or read by its execution


def _rca(session: Session, inv: Investigation, payload: Mapping[str, Any], ctx: str) -> Checked:
    words = [text(payload, key, required=False, limit=10_000) for key in EDITABLE[K.RCA_HYPOTHESIS]]
    if not any(w.strip() for w in words[:5]):
        raise DraftInvalid("hypothesis", "required", "The hypothesis is empty")
    _foreign(session, inv.tenant_id, "\n".join(words), set(), ctx)
    return Checked()


CHECKS: Mapping[ReviewKind, Callable[[Session, Any, Mapping[str, Any], str], Checked]] = {
    K.OUTREACH_EMAIL: _outreach,
    K.DUNNING_NOTICE: _dunning,
    K.DEAL_PROPOSAL: _deal,
    K.COUNTER_OFFER: _deal,
    K.CONTRACT: _contract,
    K.RCA_HYPOTHESIS: _rca,
}


def check(
    session: Session, *, kind: ReviewKind, subject: Any, payload: Any, context: str = ""
) -> Checked:
    """Validate one draft of ``kind`` about ``subject`` (its row); DraftInvalid if it breaks a
    rule. ``context`` is text the draft may legitimately repeat (the agent's inputs)."""
    if not isinstance(payload, Mapping):
        raise DraftInvalid("payload", "shape", "The draft must be a set of named fields")
    if kind is K.ACTION:
        return _action(payload)
    return CHECKS[kind](session, subject, payload, context)


def _action(payload: Mapping[str, Any]) -> Checked:
    """An external action's payload (as submitted, or as a reviewer edited it) meets the rules
    it was submitted under."""
    try:
        action.validate_action(action.ActionCreate.model_validate(dict(payload)))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "payload"
        message = f"The action's {field} is not valid: {first['msg']}"
        raise DraftInvalid(field, "shape", message) from None
    except InvalidInput as exc:
        raise DraftInvalid("data", "action rules", exc.message.rstrip(".")) from exc
    return Checked()


def editable_fields(kind: ReviewKind, payload: Mapping[str, Any]) -> list[str]:
    """The fields of this draft a reviewer may change (outreach may always change its To)."""
    fields = [name for name in EDITABLE.get(kind, ()) if name in payload]
    if kind is K.OUTREACH_EMAIL and "to" not in fields:
        fields.insert(0, "to")
    return fields


def merge_edit(
    kind: ReviewKind, current: Mapping[str, Any], edited: Any, subject: str
) -> dict[str, Any]:
    """The draft with the reviewer's edits applied; DraftInvalid for a field they may not change
    (fields left out keep their value)."""
    if not isinstance(edited, Mapping) or not edited:
        raise InvalidInput("The edited draft is empty.")
    allowed = editable_fields(kind, current)
    merged = dict(current)
    for key, value in edited.items():
        if key in allowed:
            merged[key] = value
        elif key in current and current[key] == value:
            continue
        elif key in current:
            raise DraftInvalid(
                str(key),
                "not editable",
                f"The {key} cannot be edited: approving acts on the item's own {subject}, so "
                "a change here would not happen. Reject the item instead if it is wrong",
            )
        else:
            raise DraftInvalid(
                str(key)[:60],
                "not editable",
                f"A {kind.value.replace('_', ' ')} draft has no {str(key)[:60]!r} field to edit",
            )
    return merged
