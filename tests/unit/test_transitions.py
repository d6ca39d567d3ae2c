"""Every allowed and every refused transition of review items, runs, investigations, invoices."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from enum import StrEnum

import pytest

from domain import transitions
from domain.enums import InvestigationStatus, InvoiceStatus, ReviewStatus, RunStatus
from domain.transitions import InvalidTransition


def _all_pairs(table: Mapping[StrEnum, frozenset[StrEnum]]) -> list[tuple[StrEnum, StrEnum, bool]]:
    states = list(table)
    return [(a, b, b in table[a]) for a, b in itertools.product(states, states)]


def _check(fn: Callable[[StrEnum, StrEnum], StrEnum], a: StrEnum, b: StrEnum, ok: bool) -> None:
    if ok:
        assert fn(a, b) is b
    else:
        with pytest.raises(InvalidTransition) as info:
            fn(a, b)
        assert a.value in str(info.value) and b.value in str(info.value)


def test_every_status_of_each_entity_has_a_rule() -> None:
    assert set(transitions.REVIEW_TRANSITIONS) == set(ReviewStatus)
    assert set(transitions.RUN_TRANSITIONS) == set(RunStatus)
    assert set(transitions.INVESTIGATION_TRANSITIONS) == set(InvestigationStatus)
    assert set(transitions.INVOICE_TRANSITIONS) == set(InvoiceStatus)


@pytest.mark.parametrize(
    ("current", "target", "allowed"), _all_pairs(transitions.REVIEW_TRANSITIONS)
)
def test_review_item_transition_is_allowed_exactly_when_the_table_says(
    current: ReviewStatus, target: ReviewStatus, allowed: bool
) -> None:
    _check(transitions.review_item, current, target, allowed)  # type: ignore[arg-type]


@pytest.mark.parametrize(("current", "target", "allowed"), _all_pairs(transitions.RUN_TRANSITIONS))
def test_run_transition_is_allowed_exactly_when_the_table_says(
    current: RunStatus, target: RunStatus, allowed: bool
) -> None:
    _check(transitions.agent_run, current, target, allowed)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "target", "allowed"), _all_pairs(transitions.INVOICE_TRANSITIONS)
)
def test_invoice_transition_is_allowed_exactly_when_the_table_says(
    current: InvoiceStatus, target: InvoiceStatus, allowed: bool
) -> None:
    _check(transitions.invoice, current, target, allowed)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "target", "allowed"), _all_pairs(transitions.INVESTIGATION_TRANSITIONS)
)
def test_investigation_transition_with_a_root_cause_follows_the_table(
    current: InvestigationStatus, target: InvestigationStatus, allowed: bool
) -> None:
    def move(a: InvestigationStatus, b: InvestigationStatus) -> InvestigationStatus:
        return transitions.investigation(a, b, root_cause="expired TLS certificate")

    _check(move, current, target, allowed)  # type: ignore[arg-type]


@pytest.mark.parametrize("root_cause", [None, "", "   "])
def test_resolving_an_investigation_without_a_root_cause_is_refused(root_cause: str | None) -> None:
    with pytest.raises(InvalidTransition, match="root cause"):
        transitions.investigation(
            InvestigationStatus.IN_PROGRESS, InvestigationStatus.RESOLVED, root_cause=root_cause
        )


def test_terminal_states_allow_nothing_further() -> None:
    for status in (ReviewStatus.EXECUTED, ReviewStatus.REJECTED, ReviewStatus.EXPIRED):
        assert transitions.REVIEW_TRANSITIONS[status] == frozenset()
    for run_status in (RunStatus.SUCCEEDED, RunStatus.CANCELLED):
        assert transitions.RUN_TRANSITIONS[run_status] == frozenset()
