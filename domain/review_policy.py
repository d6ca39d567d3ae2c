"""Review policies as pure rules: who may decide what, four-eyes, self-approval, contact rules.

A tenant's policy lives in ``Tenant.settings["review_policy"]``; anything it leaves out takes the
default below. Every refusal names the rule that refused it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.enums import ReasonCode, ReviewKind, Role
from domain.errors import DomainError

K = ReviewKind


class Rule(StrEnum):
    ROLE = "role_may_decide_kind"
    SELF_APPROVAL = "no_self_approval"
    FOUR_EYES = "four_eyes"
    DO_NOT_CONTACT = "do_not_contact"
    DUNNING_CADENCE = "dunning_cadence"
    OUTREACH_CADENCE = "outreach_cadence"
    OUTREACH_DAILY_LIMIT = "outreach_daily_limit"


RULE_LABELS: Mapping[Rule, str] = {
    Rule.ROLE: "role may decide kind",
    Rule.SELF_APPROVAL: "no self-approval",
    Rule.FOUR_EYES: "four-eyes (second approver)",
    Rule.DO_NOT_CONTACT: "do-not-contact",
    Rule.DUNNING_CADENCE: "dunning cadence",
    Rule.OUTREACH_CADENCE: "outreach cadence",
    Rule.OUTREACH_DAILY_LIMIT: "outreach daily limit",
}

REASON_LABELS: Mapping[ReasonCode, str] = {
    ReasonCode.WRONG_FACTS: "Wrong facts",
    ReasonCode.TONE: "Tone",
    ReasonCode.POLICY: "Against policy",
    ReasonCode.DUPLICATE: "Duplicate",
    ReasonCode.NOT_NEEDED: "Not needed",
    ReasonCode.OTHER: "Other",
}


class PolicyRefusal(DomainError):
    """A decision a tenant's policy does not allow; ``rule`` names the policy that refused it."""

    category = "policy"

    def __init__(self, rule: Rule, message: str) -> None:
        self.rule = rule
        super().__init__(f"Refused by the {RULE_LABELS[rule]} rule: {message}")


_ALL_DECIDERS = frozenset({Role.ADMIN, Role.REVIEWER})
DEFAULT_DECIDERS: Mapping[ReviewKind, frozenset[Role]] = {
    K.OUTREACH_EMAIL: _ALL_DECIDERS | {Role.SDR},
    K.DEAL_PROPOSAL: _ALL_DECIDERS | {Role.SALES},
    K.COUNTER_OFFER: _ALL_DECIDERS | {Role.SALES},
    K.CONTRACT: _ALL_DECIDERS | {Role.SALES},
    K.DUNNING_NOTICE: _ALL_DECIDERS | {Role.FINANCE},
    K.RCA_HYPOTHESIS: _ALL_DECIDERS,
    K.ACTION: _ALL_DECIDERS,
}
DEFAULT_FOUR_EYES: Mapping[ReviewKind, float] = {
    K.DEAL_PROPOSAL: 50_000.0,
    K.COUNTER_OFFER: 50_000.0,
    K.DUNNING_NOTICE: 10_000.0,
}
DEFAULT_SLA_HOURS: Mapping[ReviewKind, float] = {
    K.OUTREACH_EMAIL: 24,
    K.DEAL_PROPOSAL: 8,
    K.COUNTER_OFFER: 4,
    K.CONTRACT: 24,
    K.DUNNING_NOTICE: 48,
    K.RCA_HYPOTHESIS: 2,
    K.ACTION: 4,
}
DEFAULT_EXPIRY_HOURS: Mapping[ReviewKind, float] = {kind: 7 * 24 for kind in ReviewKind}


@dataclass(frozen=True)
class ReviewPolicy:
    """One tenant's review rules."""

    deciders: Mapping[ReviewKind, frozenset[Role]] = field(
        default_factory=lambda: dict(DEFAULT_DECIDERS)
    )
    four_eyes_limits: Mapping[ReviewKind, float] = field(
        default_factory=lambda: dict(DEFAULT_FOUR_EYES)
    )
    dunning_cadence_days: int = 7
    # Outreach mirrors dunning: days between two e-mails to one lead or address, and how many
    # outreach e-mails the whole tenant may send in any 24 hours (0 turns either rule off).
    outreach_cadence_days: int = 3
    outreach_daily_limit: int = 200
    sla_hours: Mapping[ReviewKind, float] = field(default_factory=lambda: dict(DEFAULT_SLA_HOURS))
    expiry_hours: Mapping[ReviewKind, float] = field(
        default_factory=lambda: dict(DEFAULT_EXPIRY_HOURS)
    )
    # Kinds whose run triggerer may approve the draft themselves (default: nobody may).
    triggerer_may_approve: Mapping[ReviewKind, bool] = field(default_factory=dict)
    # Kinds whose undecided items expire at their expiry time (False: they stay pending).
    auto_expire: Mapping[ReviewKind, bool] = field(
        default_factory=lambda: dict.fromkeys(ReviewKind, True)
    )

    def kinds_for(self, role: Role) -> list[ReviewKind]:
        """The kinds a role may decide."""
        return [kind for kind in ReviewKind if role in self.deciders.get(kind, frozenset())]

    def needs_second_approver(self, kind: ReviewKind, amount: float | None) -> bool:
        """Whether an item of this kind and amount needs two different approvers."""
        limit = self.four_eyes_limits.get(kind)
        return limit is not None and amount is not None and amount > limit

    def due_at(self, kind: ReviewKind, created: datetime) -> datetime:
        """When an item of this kind created now falls due."""
        return created + timedelta(hours=self.sla_hours.get(kind, 24))

    def expires_at(self, kind: ReviewKind, created: datetime) -> datetime | None:
        """When an undecided item of this kind created now expires (None: it never expires)."""
        if not self.auto_expire.get(kind, True):
            return None
        return created + timedelta(hours=self.expiry_hours.get(kind, 7 * 24))

    def to_settings(self) -> dict[str, Any]:
        """The JSON form stored in ``Tenant.settings["review_policy"]``."""
        return {
            "deciders": {k.value: sorted(r.value for r in v) for k, v in self.deciders.items()},
            "four_eyes_limits": {k.value: self.four_eyes_limits.get(k) for k in ReviewKind},
            "dunning_cadence_days": self.dunning_cadence_days,
            "outreach_cadence_days": self.outreach_cadence_days,
            "outreach_daily_limit": self.outreach_daily_limit,
            "sla_hours": {k.value: v for k, v in self.sla_hours.items()},
            "expiry_hours": {k.value: v for k, v in self.expiry_hours.items()},
            "triggerer_may_approve": {
                k.value: bool(self.triggerer_may_approve.get(k, False)) for k in ReviewKind
            },
            "auto_expire": {k.value: bool(self.auto_expire.get(k, True)) for k in ReviewKind},
        }


def check_may_decide(
    policy: ReviewPolicy,
    *,
    kind: ReviewKind,
    role: Role,
    user_id: int,
    triggered_by_id: int | None,
    approving: bool,
) -> None:
    """Refuse unless the role may decide this kind, and nobody approves their own run's output."""
    if role not in policy.deciders.get(kind, frozenset()):
        raise PolicyRefusal(
            Rule.ROLE, f"the {role.value} role may not decide {kind.value.replace('_', ' ')} items."
        )
    self_ok = policy.triggerer_may_approve.get(kind, False)
    if approving and not self_ok and triggered_by_id is not None and triggered_by_id == user_id:
        raise PolicyRefusal(
            Rule.SELF_APPROVAL,
            "you triggered the run that drafted this item, so someone else must approve it.",
        )


def approval_is_final(
    policy: ReviewPolicy,
    *,
    kind: ReviewKind,
    amount: float | None,
    user_id: int,
    first_approver_id: int | None,
) -> bool:
    """Whether this approval completes the decision (False: first of two approvals recorded)."""
    if not policy.needs_second_approver(kind, amount):
        return True
    if first_approver_id is None:
        return False
    if first_approver_id == user_id:
        limit = policy.four_eyes_limits[kind]
        raise PolicyRefusal(
            Rule.FOUR_EYES,
            f"the amount {amount:,.2f} is above {limit:,.2f}; a second approver other than "
            "you must approve it.",
        )
    return True


def check_may_contact(*, do_not_contact: bool, who: str) -> None:
    """Refuse outreach to a lead flagged do-not-contact."""
    if do_not_contact:
        raise PolicyRefusal(Rule.DO_NOT_CONTACT, f"{who} is flagged do-not-contact.")


def check_dunning_cadence(
    *, last_dunned_at: datetime | None, now: datetime, cadence_days: int, invoice: str
) -> None:
    """Refuse a second dunning notice for the same invoice within the cadence."""
    if last_dunned_at is None or cadence_days <= 0:
        return
    next_allowed = last_dunned_at + timedelta(days=cadence_days)
    if now < next_allowed:
        raise PolicyRefusal(
            Rule.DUNNING_CADENCE,
            f"invoice {invoice} had a notice on {last_dunned_at:%Y-%m-%d %H:%M} UTC; the next "
            f"may go out from {next_allowed:%Y-%m-%d %H:%M} UTC ({cadence_days} days apart).",
        )


def check_outreach_cadence(
    *, last_contacted_at: datetime | None, now: datetime, cadence_days: int, who: str
) -> None:
    """Refuse a second outreach e-mail to the same lead or address within the cadence."""
    if last_contacted_at is None or cadence_days <= 0:
        return
    next_allowed = last_contacted_at + timedelta(days=cadence_days)
    if now < next_allowed:
        raise PolicyRefusal(
            Rule.OUTREACH_CADENCE,
            f"{who} was last e-mailed on {last_contacted_at:%Y-%m-%d %H:%M} UTC; the next "
            f"outreach may go out from {next_allowed:%Y-%m-%d %H:%M} UTC ({cadence_days} days "
            "apart).",
        )


def check_outreach_daily_limit(*, sent_last_day: int, limit: int) -> None:
    """Refuse outreach once the tenant sent its limit of outreach e-mails in 24 hours."""
    if limit > 0 and sent_last_day >= limit:
        raise PolicyRefusal(
            Rule.OUTREACH_DAILY_LIMIT,
            f"this tenant already sent {sent_last_day} outreach e-mails in the last 24 hours "
            f"(limit {limit}); try again later or ask an admin to raise the limit.",
        )
