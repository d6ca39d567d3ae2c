"""Pure state-transition rules. No I/O: each check raises InvalidTransition or returns."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from domain.enums import (
    ContractStatus,
    DealStage,
    InvestigationStatus,
    InvoiceStatus,
    LeadStatus,
    ReviewStatus,
    RunStatus,
)
from domain.errors import DomainError

S = TypeVar("S", bound=StrEnum)


class InvalidTransition(DomainError):
    """A state change that the entity's rules do not allow."""

    def __init__(
        self, entity: str, current: StrEnum, target: StrEnum, message: str | None = None
    ) -> None:
        self.entity = entity
        self.current = current
        self.target = target
        super().__init__(message or f"A {entity} cannot go from {current.value} to {target.value}.")


R = ReviewStatus
REVIEW_TRANSITIONS: Mapping[ReviewStatus, frozenset[ReviewStatus]] = {
    R.PENDING: frozenset({R.APPROVED, R.REJECTED, R.EXPIRED}),
    R.APPROVED: frozenset({R.EXECUTED, R.FAILED}),
    # An admin retries a failed execution by sending it back through approval.
    R.FAILED: frozenset({R.APPROVED}),
    R.EXECUTED: frozenset(),
    R.REJECTED: frozenset(),
    R.EXPIRED: frozenset(),
}

Q = RunStatus
RUN_TRANSITIONS: Mapping[RunStatus, frozenset[RunStatus]] = {
    Q.QUEUED: frozenset({Q.RUNNING, Q.CANCELLED}),
    # running -> queued: the worker's lease expired and the run goes back to the pool.
    Q.RUNNING: frozenset({Q.SUCCEEDED, Q.FAILED, Q.CANCELLED, Q.QUEUED}),
    Q.FAILED: frozenset({Q.RETRYING, Q.DEAD}),
    Q.RETRYING: frozenset({Q.RUNNING, Q.CANCELLED}),
    Q.SUCCEEDED: frozenset(),
    Q.DEAD: frozenset({Q.RETRYING}),
    Q.CANCELLED: frozenset(),
}

N = InvestigationStatus
INVESTIGATION_TRANSITIONS: Mapping[InvestigationStatus, frozenset[InvestigationStatus]] = {
    N.OPEN: frozenset({N.IN_PROGRESS, N.RESOLVED}),
    N.IN_PROGRESS: frozenset({N.RESOLVED, N.OPEN}),
    N.RESOLVED: frozenset({N.CLOSED, N.IN_PROGRESS}),
    N.CLOSED: frozenset({N.IN_PROGRESS}),
}

V = InvoiceStatus
INVOICE_TRANSITIONS: Mapping[InvoiceStatus, frozenset[InvoiceStatus]] = {
    V.DRAFT: frozenset({V.ISSUED, V.VOID}),
    V.ISSUED: frozenset({V.PAID, V.OVERDUE, V.VOID}),
    V.OVERDUE: frozenset({V.PAID, V.VOID}),
    V.PAID: frozenset(),
    V.VOID: frozenset(),
}

L = LeadStatus
LEAD_TRANSITIONS: Mapping[LeadStatus, frozenset[LeadStatus]] = {
    L.NEW: frozenset({L.CONTACTED, L.DISQUALIFIED}),
    L.CONTACTED: frozenset({L.QUALIFIED, L.DISQUALIFIED}),
    L.QUALIFIED: frozenset({L.CONVERTED, L.DISQUALIFIED}),
    L.DISQUALIFIED: frozenset(),
    L.CONVERTED: frozenset(),
}

D = DealStage
DEAL_TRANSITIONS: Mapping[DealStage, frozenset[DealStage]] = {
    # A counter-offer during discovery moves straight to negotiation.
    D.DISCOVERY: frozenset({D.PROPOSAL, D.NEGOTIATION, D.CLOSED_LOST}),
    D.PROPOSAL: frozenset({D.NEGOTIATION, D.CLOSED_WON, D.CLOSED_LOST}),
    D.NEGOTIATION: frozenset({D.CLOSED_WON, D.CLOSED_LOST}),
    D.CLOSED_WON: frozenset(),
    D.CLOSED_LOST: frozenset(),
}

C = ContractStatus
CONTRACT_TRANSITIONS: Mapping[ContractStatus, frozenset[ContractStatus]] = {
    C.DRAFT: frozenset({C.SENT, C.CANCELLED}),
    C.SENT: frozenset({C.SIGNED, C.CANCELLED}),
    C.SIGNED: frozenset(),
    C.CANCELLED: frozenset(),
}


def sources(table: Mapping[S, frozenset[S]], target: S) -> frozenset[S]:
    """The states from which the table allows a move to ``target``."""
    return frozenset(state for state, targets in table.items() if target in targets)


def _check(entity: str, table: Mapping[S, frozenset[S]], current: S, target: S) -> S:
    if target not in table[current]:
        raise InvalidTransition(entity, current, target)
    return target


def review_item(current: ReviewStatus, target: ReviewStatus) -> ReviewStatus:
    """The new status of a review item, or InvalidTransition."""
    return _check("review item", REVIEW_TRANSITIONS, current, target)


def agent_run(current: RunStatus, target: RunStatus) -> RunStatus:
    """The new status of an agent run, or InvalidTransition."""
    return _check("run", RUN_TRANSITIONS, current, target)


def investigation(
    current: InvestigationStatus, target: InvestigationStatus, *, root_cause: str | None
) -> InvestigationStatus:
    """The new status of an investigation; resolving needs a root cause."""
    _check("investigation", INVESTIGATION_TRANSITIONS, current, target)
    if target is N.RESOLVED and not (root_cause or "").strip():
        raise InvalidTransition("investigation without a root cause", current, target)
    return target


def invoice(current: InvoiceStatus, target: InvoiceStatus) -> InvoiceStatus:
    """The new status of an invoice, or InvalidTransition."""
    return _check("invoice", INVOICE_TRANSITIONS, current, target)


def lead(current: LeadStatus, target: LeadStatus) -> LeadStatus:
    """The new status of a lead, or InvalidTransition."""
    return _check("lead", LEAD_TRANSITIONS, current, target)


def deal(current: DealStage, target: DealStage) -> DealStage:
    """The new stage of a deal, or InvalidTransition."""
    return _check("deal", DEAL_TRANSITIONS, current, target)


def contract(current: ContractStatus, target: ContractStatus) -> ContractStatus:
    """The new status of a contract, or InvalidTransition."""
    return _check("contract", CONTRACT_TRANSITIONS, current, target)
