"""What can be known before a reviewer clicks Approve: the checks the approval will make.

Each check is worked out the way the approval works it out (the same rule functions), so the
card shows "do-not-contact", "you triggered this run", "waiting for a second approver" or
"the contract is already signed" before anyone presses the button.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from domain.base import utcnow
from domain.enums import ContractStatus, DealStage, ReviewKind, ReviewStatus
from domain.review_policy import (
    PolicyRefusal,
    ReviewPolicy,
    check_dunning_cadence,
)
from services.actor import Actor
from services.errors import InvalidInput
from services.permissions import Action, require
from services.review import contact, editing, execution, items, rules
from services.review import policy as policies
from services.uow import UnitOfWork

K = ReviewKind
Outcome = Literal["ok", "blocked", "warning"]


class PreCheck(BaseModel):
    rule: str
    outcome: Outcome
    message: str


class ReviewPreChecks(BaseModel):
    """The checks an approval of this item by this person would make, worked out now."""

    item_id: int
    checks: list[PreCheck]

    @property
    def blocked(self) -> list[PreCheck]:
        return [c for c in self.checks if c.outcome == "blocked"]


def _decider(policy: ReviewPolicy, item: Any, actor: Actor) -> list[PreCheck]:
    try:
        policies.check_decider(policy, item, actor, approving=True)
    except PolicyRefusal as exc:
        return [PreCheck(rule=exc.rule.value, outcome="blocked", message=str(exc))]
    return [PreCheck(rule="role_may_decide_kind", outcome="ok", message="You may approve it.")]


def _four_eyes(session: Any, policy: ReviewPolicy, item: Any, actor: Actor) -> PreCheck:
    amount = editing.policy_amount(item)
    if not policy.needs_second_approver(item.kind, amount):
        return PreCheck(rule="four_eyes", outcome="ok", message="One approval carries it out.")
    assert amount is not None
    limit = (
        f"{amount:,.2f} is above the four-eyes limit of {policy.four_eyes_limits[item.kind]:,.2f}"
    )
    if item.first_approver_id is None:
        message = f"Needs two approvers: {limit}. An approval now is the first of two."
        return PreCheck(rule="four_eyes", outcome="warning", message=message)
    who = items.user_label(session, item.first_approver_id)
    if item.first_approver_id == actor.user_id:
        message = (
            f"You gave the first approval ({limit}); a different approver must give the second."
        )
        return PreCheck(rule="four_eyes", outcome="blocked", message=message)
    message = f"{who} gave the first approval ({limit}); an approval now carries it out."
    return PreCheck(rule="four_eyes", outcome="ok", message=message)


def _state(subject: Any, item: Any) -> str | None:
    """Why executing would fail as things stand, or None."""
    if subject is None:
        return f"The {item.subject_type} #{item.subject_id} no longer exists."
    if item.kind in (K.DEAL_PROPOSAL, K.COUNTER_OFFER) and subject.stage in (
        DealStage.CLOSED_WON,
        DealStage.CLOSED_LOST,
    ):
        return f"Deal {subject.name} is already {subject.stage.value.replace('_', ' ')}."
    if item.kind is K.CONTRACT and subject.status is not ContractStatus.DRAFT:
        return f"Contract {subject.number} is already {subject.status.value}, not a draft."
    return None


def _subject(session: Any, policy: ReviewPolicy, item: Any, now: datetime) -> list[PreCheck]:
    if item.kind not in execution.SUBJECTS:
        return []  # an external action: the agent that asked carries it out
    subject = session.get(execution.SUBJECTS[item.kind], item.subject_id)
    failing = _state(subject, item)
    if failing:
        message = f"Approving would fail: {failing}"
        return [PreCheck(rule="subject_state", outcome="blocked", message=message)]
    found = []
    try:
        rules.check(
            session,
            kind=item.kind,
            subject=subject,
            payload=item.payload,
            context=editing.context(item),
        )
        found.append(
            PreCheck(
                rule="draft_rules", outcome="ok", message="The draft keeps the rules of its kind."
            )
        )
    except InvalidInput as exc:
        found.append(PreCheck(rule="draft_rules", outcome="blocked", message=exc.message))
    try:
        if item.kind is K.OUTREACH_EMAIL:
            to = contact.check_outreach(session, subject, item.payload, policy, now)
            message = f"{to} may be e-mailed now (do-not-contact and cadence checked)."
            found.append(PreCheck(rule="contact", outcome="ok", message=message))
        elif item.kind is K.DUNNING_NOTICE:
            check_dunning_cadence(
                last_dunned_at=subject.last_dunned_at,
                now=now,
                cadence_days=policy.dunning_cadence_days,
                invoice=subject.number,
            )
            message = f"Invoice {subject.number} may get a notice now (cadence checked)."
            found.append(PreCheck(rule="dunning_cadence", outcome="ok", message=message))
    except PolicyRefusal as exc:
        found.append(PreCheck(rule=exc.rule.value, outcome="blocked", message=str(exc)))
    return found


def next_step(item: Any) -> str:
    """What a person should do about a failed execution."""
    error = item.execution_error or ""
    if error.startswith("SMTP"):
        return (
            "nothing was sent. Check the mail server, then an admin can use Retry execution "
            "on this item."
        )
    return (
        "nothing was carried out. Fix what the error names (or leave the item failed if it "
        "no longer applies); an admin can then use Retry execution on this item."
    )


def pre_checks(*, actor: Actor, item_id: int) -> ReviewPreChecks:
    """The checks approving this item would make, as they come out now (nothing is changed)."""
    require(actor, Action.VIEW_REVIEW_QUEUE)
    now = utcnow()
    with UnitOfWork(actor, readonly=True) as uow:
        item = items.load(uow.session, item_id)
        if item.status is not ReviewStatus.PENDING:
            return ReviewPreChecks(item_id=item.id, checks=[])
        policy = policies.load(uow.session, actor.tenant_id)
        checks = _decider(policy, item, actor)
        checks.append(_four_eyes(uow.session, policy, item, actor))
        checks += _subject(uow.session, policy, item, now)
        return ReviewPreChecks(item_id=item.id, checks=checks)
