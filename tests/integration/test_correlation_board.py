"""The candidate board: stored suggestions visible, each candidate in one place, learning, paths."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from domain.base import utcnow
from domain.enums import EventSeverity, EventSource, InvestigationStatus, LinkStatus, Role, Severity
from domain.models import EventLink, Investigation, User
from services import audit
from services.actor import Actor
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.investigations import correlation, dependencies, paths
from services.investigations import service as investigations
from services.investigations.dto import InvestigationCreate
from services.seed.demo import seed_demo
from services.seed.demo_scenarios import SCENARIOS
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.event_factory import add_events, event

Pair = tuple[TenantWithUsers, TenantWithUsers]
CI, GIT, LOGS = EventSource.CI, EventSource.GIT, EventSource.LOGS
COMMIT_OF = {sc.title: sc.commit for sc in SCENARIOS}


def _seeded() -> list[tuple[Actor, int, str, InvestigationStatus, dict[int, LinkStatus]]]:
    with UnitOfWork(None) as uow:
        reviewer = {
            u.tenant_id: Actor(user_id=u.id, tenant_id=u.tenant_id, role=u.role)
            for u in uow.session.scalars(select(User).where(User.role == Role.REVIEWER))
        }
        out = []
        for inv in uow.session.scalars(select(Investigation).order_by(Investigation.id)).all():
            stored = dict(
                uow.session.execute(
                    select(EventLink.event_id, EventLink.status).where(
                        EventLink.investigation_id == inv.id
                    )
                ).all()
            )
            out.append((reviewer[inv.tenant_id], inv.id, inv.title, inv.status, stored))
        return out


def test_every_seeded_candidate_is_shown_once_and_the_culprit_change_outranks_builds(
    db_url: str,
) -> None:
    seed_demo()
    open_titles = []
    for actor, inv_id, title, status, stored in _seeded():
        found = correlation.board(actor=actor, investigation_id=inv_id)
        places = {
            "suggested": [s.event.id for s in [*found.changes, *found.signals]],
            "accepted": [x.event.id for x in found.accepted],
            "rejected": [x.event.id for x in found.rejected],
        }
        everywhere = [i for ids in places.values() for i in ids]
        assert len(everywhere) == len(set(everywhere)), (title, places)  # one place each
        for event_id, link_status in stored.items():
            place = "suggested" if link_status is LinkStatus.SUGGESTED else link_status.value
            assert event_id in places[place], (title, event_id, link_status)
        for ranked in (found.changes, found.signals):
            assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
        if status is InvestigationStatus.OPEN:
            open_titles.append(title)
            top, second = found.changes[:2]
            # The stored culprit commit and the deploy that shipped it, ahead of every build.
            assert {top.event.type, second.event.type} == {"commit", "deploy"}, (title, top)
            assert top.stored and second.stored, title
            assert any(COMMIT_OF[title] in s.event.title for s in (top, second)), title
            assert all(s.event.type != "build" for s in found.changes[:2])
    assert len(open_titles) == 4 and "Partner API throttled unexpectedly" in open_titles


def test_accepting_a_stored_suggestion_moves_it_to_accepted_with_the_score_shown(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    editor = north.actor(Role.REVIEWER)
    detected = utcnow() - timedelta(hours=1)
    inv = investigations.create(
        actor=editor,
        investigation_in=InvestigationCreate(
            title="Login fails", severity=Severity.HIGH, service="auth", detected_at=detected
        ),
    )
    m = timedelta(minutes=1)
    far_commit, spike = add_events(
        north.tenant.id,
        [
            # Outside every window on the page: only the stored suggestion keeps it visible.
            event(GIT, "commit", detected - 40 * 60 * m, "auth", files=["auth/jwt.py"], sha="ab1"),
            event(LOGS, "error_spike", detected - 3 * m, "auth", severity=EventSeverity.HIGH),
        ],
    )
    with UnitOfWork(None) as uow:
        uow.session.add(
            EventLink(
                tenant_id=north.tenant.id,
                investigation_id=inv.id,
                event_id=far_commit,
                rule="deploy_window",
                score=0.93,
                reasons=["same service"],
                status=LinkStatus.SUGGESTED,
            )
        )
        uow.commit()
    found = correlation.board(actor=editor, investigation_id=inv.id)
    (shown,) = [s for s in found.changes if s.event.id == far_commit]
    assert shown.stored and "suggested by rule deploy_window with score 0.93" in shown.reasons
    assert spike in [s.event.id for s in found.signals]
    link = correlation.decide(
        actor=editor, investigation_id=inv.id, event_id=far_commit, accept=True
    )
    assert link.score == shown.score and link.reasons == shown.reasons
    after = correlation.board(actor=editor, investigation_id=inv.id)
    assert far_commit not in [s.event.id for s in after.changes]
    assert [x.event.id for x in after.accepted] == [far_commit] and not after.rejected
    correlation.decide(actor=editor, investigation_id=inv.id, event_id=spike, accept=False)
    final = correlation.board(actor=editor, investigation_id=inv.id)
    assert [x.event.id for x in final.rejected] == [spike] and not final.signals


def _pair_of_changes(
    pair: Pair, service: str, detected_hours: float, tenant: int = 0
) -> tuple[int, int, int]:
    north = pair[tenant]
    editor = north.actor(Role.REVIEWER)
    detected = utcnow() - timedelta(hours=detected_hours)
    inv = investigations.create(
        actor=editor,
        investigation_in=InvestigationCreate(
            title=f"{service} broke", severity=Severity.HIGH, service=service, detected_at=detected
        ),
    )
    m = timedelta(minutes=1)
    merge, commit = add_events(
        north.tenant.id,
        [
            event(GIT, "merge", detected - 25 * m, service, files=[f"{service}/a.py"]),
            event(GIT, "commit", detected - 32 * m, service, files=[f"{service}/b.py"]),
        ],
    )
    return inv.id, merge, commit


def test_decisions_teach_the_ranking_for_the_tenant_and_the_reason_shows_what_was_learned(
    two_tenants: Pair,
) -> None:
    editor = two_tenants[0].actor(Role.REVIEWER)
    later_inv, later_merge, later_commit = _pair_of_changes(two_tenants, "search", 1)
    ranked = correlation.suspect_changes(actor=editor, investigation_id=later_inv)
    assert [s.event.id for s in ranked] == [later_merge, later_commit]  # the nearer one first
    assert not any("learned" in r for s in ranked for r in s.reasons)
    for hours in (30, 60, 90):
        inv, merge, commit = _pair_of_changes(two_tenants, f"svc{hours}", hours)
        correlation.decide(actor=editor, investigation_id=inv, event_id=merge, accept=False)
        correlation.decide(actor=editor, investigation_id=inv, event_id=commit, accept=True)
    ranked = correlation.suspect_changes(actor=editor, investigation_id=later_inv)
    assert [s.event.id for s in ranked] == [later_commit, later_merge]
    reasons = {s.event.id: s.reasons for s in ranked}
    assert (
        "learned x1.15: 3 of 3 commit events accepted in this organisation's earlier decisions"
        in reasons[later_commit]
    )
    assert any(r.startswith("learned x0.85: 0 of 3 merge") for r in reasons[later_merge])
    south = two_tenants[1].actor(Role.REVIEWER)
    with pytest.raises(NotFound):
        correlation.suspect_changes(actor=south, investigation_id=later_inv)
    south_inv, _, _ = _pair_of_changes(two_tenants, "search", 1, tenant=1)
    theirs = correlation.suspect_changes(actor=south, investigation_id=south_inv)
    assert not any("learned" in r for s in theirs for r in s.reasons)  # learned per tenant


def test_the_path_map_is_audited_checked_and_makes_a_monorepo_commit_count(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    editor = north.actor(Role.REVIEWER)
    detected = utcnow() - timedelta(hours=1)
    inv = investigations.create(
        actor=editor,
        investigation_in=InvestigationCreate(
            title="Search empty", severity=Severity.HIGH, service="search", detected_at=detected
        ),
    )
    (mono,) = add_events(
        north.tenant.id,
        [event(GIT, "commit", detected - timedelta(minutes=20), None, files=["svc/search/q.py"])],
    )
    assert correlation.suspect_changes(actor=editor, investigation_id=inv.id) == []
    with pytest.raises(InvalidInput, match="Line 2"):
        paths.parse("svc/search/ = search\nno equals sign here")
    with pytest.raises(PermissionDenied):
        paths.set_map(actor=north.actor(Role.VIEWER), entries=paths.parse("a/ = b"))
    saved = paths.set_map(actor=editor, entries=paths.parse("# monorepo\n/svc/search/ = search\n"))
    assert [(e.prefix, e.service) for e in saved] == [("svc/search/", "search")]
    assert paths.get_map(actor=two_tenants[1].actor(Role.VIEWER)) == []
    (top,) = correlation.suspect_changes(actor=editor, investigation_id=inv.id)
    assert top.event.id == mono and "commit touching search files (svc/search/q.py)" in top.reasons
    trail = audit.list_for_entity(actor=editor, entity_type="tenant", entity_id=north.tenant.id)
    assert trail[-1].action == "service_paths.set"


def test_without_a_service_the_first_services_with_symptoms_are_used_and_a_slow_start_widens(
    two_tenants: Pair,
) -> None:
    north = two_tenants[0]
    editor = north.actor(Role.REVIEWER)
    dependencies.set_for(actor=editor, service="search", depends_on=["index", "cache"])
    dependencies.set_for(actor=editor, service="index", depends_on=["storage"])
    detected = utcnow() - timedelta(hours=1)
    inv = investigations.create(
        actor=editor,
        investigation_in=InvestigationCreate(
            title="Results are stale", severity=Severity.HIGH, detected_at=detected
        ),
    )
    h = timedelta(hours=1)
    old_deploy, _, _, _ = add_events(
        north.tenant.id,
        [
            event(CI, "deploy", detected - 50 * h, "storage", environment="production"),
            event(
                LOGS,
                "error_spike",
                detected - 20 * timedelta(minutes=1),
                "search",
                severity=EventSeverity.HIGH,
            ),
            event(
                LOGS,
                "error_spike",
                detected - 40 * timedelta(minutes=1),
                "storage",
                severity=EventSeverity.MEDIUM,
            ),
            event(
                LOGS,
                "error_spike",
                detected - 10 * timedelta(minutes=1),
                "checkout",
                severity=EventSeverity.HIGH,
            ),
        ],
    )
    found = correlation.board(actor=editor, investigation_id=inv.id)
    assert found.scope == ["storage"]  # its symptoms began first; search's came 20 min later
    assert found.onset_what.startswith("first error spike of storage at")
    assert found.notes == [
        "No change of storage in the 24 h before the symptoms began; looked back 3 d instead."
    ]
    assert [s.event.id for s in found.changes] == [old_deploy]
    assert "ran in production" in found.changes[0].reasons
    named = investigations.create(
        actor=editor,
        investigation_in=InvestigationCreate(
            title="Search slow", severity=Severity.HIGH, service="search", detected_at=detected
        ),
    )
    (via,) = correlation.suspect_changes(actor=editor, investigation_id=named.id)
    assert via.event.id == old_deploy
    assert via.reasons[0].startswith(
        "search depends on storage via index, whose own error spike began first"
    )
