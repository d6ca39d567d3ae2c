"""Correlation on a hand-built incident: the deploy that broke checkout must rank first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.base import utcnow
from domain.enums import EventSeverity, EventSource, LinkStatus, Role, Severity
from services import audit
from services.errors import Conflict, PermissionDenied
from services.investigations import correlation, dependencies
from services.investigations import service as investigations
from services.investigations.dto import InvestigationCreate
from services.tenants import TenantWithUsers
from tests.integration.event_factory import add_events, event

Pair = tuple[TenantWithUsers, TenantWithUsers]
CI, GIT, LOGS = EventSource.CI, EventSource.GIT, EventSource.LOGS
H = EventSeverity.HIGH


def _scenario(pair: Pair) -> tuple[int, dict[str, int]]:
    """Checkout breaks at D. Candidates: the culprit deploy 15 min before, an old checkout
    deploy, a checkout commit, a deploy of payments (a dependency), a deploy of search
    (unrelated), the error spike, and a commit to search."""
    north, south = pair
    editor = north.actor(Role.REVIEWER)
    detected = utcnow() - timedelta(hours=1)
    dependencies.set_for(actor=editor, service="checkout", depends_on=["payments", " "])
    inv = investigations.create(
        actor=editor,
        investigation_in=InvestigationCreate(
            title="Checkout 500s",
            severity=Severity.CRITICAL,
            service="checkout",
            detected_at=detected,
        ),
    )
    m = timedelta(minutes=1)
    names = [
        "culprit",
        "old_deploy",
        "commit",
        "payments_deploy",
        "search_deploy",
        "spike",
        "search_commit",
        "after",
    ]
    ids = add_events(
        north.tenant.id,
        [
            event(CI, "deploy", detected - 15 * m, "checkout", status="succeeded"),
            event(CI, "deploy", detected - 20 * 60 * m, "checkout", status="succeeded"),
            event(GIT, "commit", detected - 120 * m, "checkout", files=["checkout/cart.py"]),
            event(CI, "deploy", detected - 180 * m, "payments", status="succeeded"),
            event(CI, "deploy", detected - 5 * m, "search", status="succeeded"),
            event(
                LOGS,
                "error_spike",
                detected - 4 * m,
                "checkout",
                severity=H,
                errors_at_onset=42,
                baseline_per_minute=1.5,
            ),
            event(GIT, "commit", detected - 10 * m, "search", files=["search/index.py"]),
            event(CI, "deploy", detected + 10 * m, "checkout", status="succeeded"),
        ],
    )
    add_events(south.tenant.id, [event(CI, "deploy", detected - 1 * m, "checkout")])
    return inv.id, dict(zip(names, ids, strict=True))


def test_the_deploy_of_the_affected_service_just_before_detection_ranks_first(
    two_tenants: Pair,
) -> None:
    inv_id, ids = _scenario(two_tenants)
    reader = two_tenants[0].actor(Role.VIEWER)
    suspects = correlation.suspect_changes(actor=reader, investigation_id=inv_id)
    # The payments deploy now ranks last: payments shows no errors of its own, so it weighs less
    # than a day-old deploy of checkout itself (it used to get a fixed half of the same-service
    # points).
    assert [s.event.id for s in suspects] == [
        ids["culprit"],
        ids["commit"],
        ids["old_deploy"],
        ids["payments_deploy"],
    ]
    top = suspects[0]
    onset = "first error spike of checkout at"
    assert top.reasons[0] == "same service (checkout)"
    assert top.reasons[1].startswith(f"11 minutes before the symptoms began ({onset}")
    assert top.reasons[1].endswith("), 15 minutes before detection")
    assert top.reasons[2] == "deploy of checkout (succeeded)"
    assert any(r.startswith("ships commit") for r in top.reasons)
    assert top.score > suspects[1].score and top.rule == "suspect_change"
    assert any(
        r.startswith("checkout depends on payments, which shows no errors")
        for r in suspects[3].reasons
    )


def test_suggestions_score_the_spike_and_the_deploy_with_reasons_and_skip_unrelated_services(
    two_tenants: Pair,
) -> None:
    inv_id, ids = _scenario(two_tenants)
    reader = two_tenants[0].actor(Role.VIEWER)
    suggestions = correlation.suggest(actor=reader, investigation_id=inv_id)
    by_id = {s.event.id: s for s in suggestions}
    assert [s.event.id for s in suggestions[:2]] == [ids["spike"], ids["culprit"]]
    assert "error spike onset (42 errors/min vs baseline 1.5)" in by_id[ids["spike"]].reasons
    assert ids["after"] in by_id and "10 minutes after detection" in by_id[ids["after"]].reasons
    assert ids["search_deploy"] not in by_id and ids["search_commit"] not in by_id
    assert all(0 < s.score <= 1 for s in suggestions)
    high_only = correlation.suggest(
        actor=reader, investigation_id=inv_id, min_severity=EventSeverity.HIGH
    )
    assert [s.event.id for s in high_only] == [ids["spike"]]
    narrow = correlation.suggest(
        actor=reader, investigation_id=inv_id, before=timedelta(minutes=30), after=timedelta(0)
    )
    assert {s.event.id for s in narrow} == {ids["culprit"], ids["spike"]}


def test_accepted_and_rejected_events_are_linked_and_rejected_ones_never_come_back(
    two_tenants: Pair,
) -> None:
    inv_id, ids = _scenario(two_tenants)
    editor = two_tenants[0].actor(Role.REVIEWER)
    accepted = correlation.decide(
        actor=editor,
        investigation_id=inv_id,
        event_id=ids["culprit"],
        accept=True,
        note="the culprit",
    )
    assert accepted.status is LinkStatus.ACCEPTED and accepted.rule == "suspect_change"
    assert accepted.score and accepted.reasons[0] == "same service (checkout)"
    correlation.decide(actor=editor, investigation_id=inv_id, event_id=ids["commit"], accept=False)
    with pytest.raises(Conflict, match="already rejected"):
        correlation.decide(
            actor=editor, investigation_id=inv_id, event_id=ids["commit"], accept=True
        )
    for listing in (
        correlation.suggest(actor=editor, investigation_id=inv_id),
        correlation.suspect_changes(actor=editor, investigation_id=inv_id),
    ):
        assert not {ids["commit"], ids["culprit"]} & {s.event.id for s in listing}
    assert [link.event.id for link in correlation.links(actor=editor, investigation_id=inv_id)] == [
        ids["culprit"]
    ]
    trail = audit.list_for_entity(actor=editor, entity_type="investigation", entity_id=inv_id)
    assert [t.action for t in trail][-2:] == [
        "investigation.event_accepted",
        "investigation.event_rejected",
    ]
    with pytest.raises(PermissionDenied):
        correlation.decide(
            actor=two_tenants[0].actor(Role.VIEWER),
            investigation_id=inv_id,
            event_id=ids["spike"],
            accept=True,
        )


def test_the_dependency_list_is_editable_and_changes_what_is_suggested(two_tenants: Pair) -> None:
    inv_id, ids = _scenario(two_tenants)
    editor = two_tenants[0].actor(Role.REVIEWER)
    assert dependencies.list_all(actor=editor) == {"checkout": ["payments"]}
    dependencies.set_for(actor=editor, service="checkout", depends_on=["search"])
    suspects = {
        s.event.id for s in correlation.suspect_changes(actor=editor, investigation_id=inv_id)
    }
    assert ids["search_deploy"] in suspects and ids["payments_deploy"] not in suspects


def test_without_an_affected_service_only_events_that_carry_a_signal_are_suggested(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    editor = north.actor(Role.REVIEWER)
    detected = utcnow() - timedelta(hours=1)
    inv = investigations.create(
        actor=editor,
        investigation_in=InvestigationCreate(
            title="Something is slow", severity=Severity.HIGH, detected_at=detected
        ),
    )
    m = timedelta(minutes=1)
    deploy, noise, error = add_events(
        north.tenant.id,
        [
            event(CI, "deploy", detected - 30 * m, "search", status="succeeded"),
            event(LOGS, "log_error", detected - 2 * m, "search"),
            event(LOGS, "log_error", detected - 3 * m, "search", severity=H),
        ],
    )
    suggested = [s.event.id for s in correlation.suggest(actor=editor, investigation_id=inv.id)]
    assert suggested == [deploy, error] and noise not in suggested
    assert [
        s.event.id for s in correlation.suspect_changes(actor=editor, investigation_id=inv.id)
    ] == [deploy]
