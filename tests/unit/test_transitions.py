"""Every allowed and refused transition of review items, runs, investigations, invoices, leads,
deals and contracts.

The allowed edges are written out literally below, never read off the tables under test: a
table that gains an edge (say pending -> executed, skipping the human) fails here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from enum import StrEnum

import pytest

from domain import transitions
from domain.enums import (
    ContractStatus,
    DealStage,
    InvestigationStatus,
    InvoiceStatus,
    LeadStatus,
    ReviewStatus,
    RunStatus,
)
from domain.transitions import InvalidTransition
from services import runs

R, Q, N, V = ReviewStatus, RunStatus, InvestigationStatus, InvoiceStatus
L, D, C = LeadStatus, DealStage, ContractStatus

REVIEW_EDGES: set[tuple[StrEnum, StrEnum]] = {
    (R.PENDING, R.APPROVED),
    (R.PENDING, R.REJECTED),
    (R.PENDING, R.EXPIRED),
    (R.APPROVED, R.EXECUTED),
    (R.APPROVED, R.FAILED),
    (R.FAILED, R.APPROVED),
}
RUN_EDGES: set[tuple[StrEnum, StrEnum]] = {
    (Q.QUEUED, Q.RUNNING),
    (Q.QUEUED, Q.CANCELLED),
    (Q.RUNNING, Q.SUCCEEDED),
    (Q.RUNNING, Q.FAILED),
    (Q.RUNNING, Q.CANCELLED),
    (Q.RUNNING, Q.QUEUED),
    (Q.FAILED, Q.RETRYING),
    (Q.FAILED, Q.DEAD),
    (Q.RETRYING, Q.RUNNING),
    (Q.RETRYING, Q.CANCELLED),
    (Q.DEAD, Q.RETRYING),
}
INVESTIGATION_EDGES: set[tuple[StrEnum, StrEnum]] = {
    (N.OPEN, N.IN_PROGRESS),
    (N.OPEN, N.RESOLVED),
    (N.IN_PROGRESS, N.RESOLVED),
    (N.IN_PROGRESS, N.OPEN),
    (N.RESOLVED, N.CLOSED),
    (N.RESOLVED, N.IN_PROGRESS),
    (N.CLOSED, N.IN_PROGRESS),
}
INVOICE_EDGES: set[tuple[StrEnum, StrEnum]] = {
    (V.DRAFT, V.ISSUED),
    (V.DRAFT, V.VOID),
    (V.ISSUED, V.PAID),
    (V.ISSUED, V.OVERDUE),
    (V.ISSUED, V.VOID),
    (V.OVERDUE, V.PAID),
    (V.OVERDUE, V.VOID),
}
LEAD_EDGES: set[tuple[StrEnum, StrEnum]] = {
    (L.NEW, L.CONTACTED),
    (L.NEW, L.DISQUALIFIED),
    (L.CONTACTED, L.QUALIFIED),
    (L.CONTACTED, L.DISQUALIFIED),
    (L.QUALIFIED, L.CONVERTED),
    (L.QUALIFIED, L.DISQUALIFIED),
}
DEAL_EDGES: set[tuple[StrEnum, StrEnum]] = {
    (D.DISCOVERY, D.PROPOSAL),
    (D.DISCOVERY, D.NEGOTIATION),
    (D.DISCOVERY, D.CLOSED_LOST),
    (D.PROPOSAL, D.NEGOTIATION),
    (D.PROPOSAL, D.CLOSED_WON),
    (D.PROPOSAL, D.CLOSED_LOST),
    (D.NEGOTIATION, D.CLOSED_WON),
    (D.NEGOTIATION, D.CLOSED_LOST),
}
CONTRACT_EDGES: set[tuple[StrEnum, StrEnum]] = {
    (C.DRAFT, C.SENT),
    (C.DRAFT, C.CANCELLED),
    (C.SENT, C.SIGNED),
    (C.SENT, C.CANCELLED),
}


def _investigation(a: InvestigationStatus, b: InvestigationStatus) -> InvestigationStatus:
    return transitions.investigation(a, b, root_cause="expired TLS certificate")


Move = Callable[..., StrEnum]
# Table name in domain.transitions -> (its states, the literal allowed edges, its check).
EXPECTED: dict[str, tuple[type[StrEnum], set[tuple[StrEnum, StrEnum]], Move]] = {
    "REVIEW_TRANSITIONS": (ReviewStatus, REVIEW_EDGES, transitions.review_item),
    "RUN_TRANSITIONS": (RunStatus, RUN_EDGES, transitions.agent_run),
    "INVESTIGATION_TRANSITIONS": (InvestigationStatus, INVESTIGATION_EDGES, _investigation),
    "INVOICE_TRANSITIONS": (InvoiceStatus, INVOICE_EDGES, transitions.invoice),
    "LEAD_TRANSITIONS": (LeadStatus, LEAD_EDGES, transitions.lead),
    "DEAL_TRANSITIONS": (DealStage, DEAL_EDGES, transitions.deal),
    "CONTRACT_TRANSITIONS": (ContractStatus, CONTRACT_EDGES, transitions.contract),
}


def _table(name: str) -> Mapping[StrEnum, frozenset[StrEnum]]:
    table: Mapping[StrEnum, frozenset[StrEnum]] = getattr(transitions, name)
    return table


def _every_pair() -> list[tuple[str, StrEnum, StrEnum]]:
    """Every (table, from, to) over the enum's states, not over the table's keys."""
    return [
        (name, a, b)
        for name, (states, _, _) in EXPECTED.items()
        for a, b in itertools.product(list(states), list(states))
    ]


def test_every_transition_table_in_the_domain_has_literal_expectations_here() -> None:
    tables = {name for name in vars(transitions) if name.endswith("_TRANSITIONS")}
    assert tables == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_table_allows_exactly_the_edges_spelled_out_here(name: str) -> None:
    states, edges, _ = EXPECTED[name]
    table = _table(name)
    assert set(table) == set(states), "every status needs a rule, even an empty one"
    assert {(a, b) for a, targets in table.items() for b in targets} == edges


@pytest.mark.parametrize(("name", "current", "target"), _every_pair())
def test_a_transition_is_allowed_exactly_when_it_is_spelled_out_here(
    name: str, current: StrEnum, target: StrEnum
) -> None:
    _, edges, move = EXPECTED[name]
    if (current, target) in edges:
        assert move(current, target) is target
    else:
        with pytest.raises(InvalidTransition) as info:
            move(current, target)
        assert current.value in str(info.value) and target.value in str(info.value)


def _paths(
    table: Mapping[StrEnum, frozenset[StrEnum]], start: StrEnum, goal: StrEnum
) -> list[list[StrEnum]]:
    """Every simple path from start to goal over the table's edges (depth-first)."""
    found: list[list[StrEnum]] = []
    stack: list[list[StrEnum]] = [[start]]
    while stack:
        path = stack.pop()
        if path[-1] is goal and len(path) > 1:
            found.append(path)
            continue
        stack.extend([*path, nxt] for nxt in table[path[-1]] if nxt not in path or nxt is goal)
    return found


def _reachable_without(
    table: Mapping[StrEnum, frozenset[StrEnum]], start: StrEnum, avoid: StrEnum
) -> set[StrEnum]:
    seen: set[StrEnum] = set()
    todo = [start]
    while todo:
        for nxt in table[todo.pop()]:
            if nxt is not avoid and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_path_from_a_new_draft_to_executed_passes_a_human_approval() -> None:
    table = _table("REVIEW_TRANSITIONS")
    paths = _paths(table, R.PENDING, R.EXECUTED)
    assert paths, "a pending draft must be able to reach executed at all"
    assert [R.PENDING, R.APPROVED, R.EXECUTED] in paths
    for path in paths:
        assert R.APPROVED in path, f"{' -> '.join(s.value for s in path)} skips approval"


@pytest.mark.parametrize("start", [s for s in ReviewStatus if s is not R.APPROVED])
def test_executed_cannot_be_reached_from_any_status_once_approved_is_taken_out(
    start: ReviewStatus,
) -> None:
    table = _table("REVIEW_TRANSITIONS")
    assert R.EXECUTED not in _reachable_without(table, start, R.APPROVED)


@pytest.mark.parametrize("root_cause", [None, "", "   "])
def test_resolving_an_investigation_without_a_root_cause_is_refused(root_cause: str | None) -> None:
    with pytest.raises(InvalidTransition, match="root cause"):
        transitions.investigation(
            InvestigationStatus.IN_PROGRESS, InvestigationStatus.RESOLVED, root_cause=root_cause
        )


def test_terminal_states_allow_nothing_further() -> None:
    for status in (R.EXECUTED, R.REJECTED, R.EXPIRED):
        assert transitions.REVIEW_TRANSITIONS[status] == frozenset()
    for run_status in (Q.SUCCEEDED, Q.CANCELLED):
        assert transitions.RUN_TRANSITIONS[run_status] == frozenset()
    for invoice_status in (V.PAID, V.VOID):
        assert transitions.INVOICE_TRANSITIONS[invoice_status] == frozenset()
    for deal_stage in (D.CLOSED_WON, D.CLOSED_LOST):
        assert transitions.DEAL_TRANSITIONS[deal_stage] == frozenset()


def test_the_run_queue_cancels_and_retries_exactly_the_runs_the_table_lets_it() -> None:
    cancellable, retryable = runs.CANCELLABLE, runs.RETRYABLE
    assert cancellable == {Q.QUEUED, Q.RUNNING, Q.RETRYING}
    assert retryable == {Q.FAILED, Q.DEAD}
