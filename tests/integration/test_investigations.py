"""Investigations: create, edit, status rules, append-only notes, search, timeline, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.base import utcnow
from domain.enums import EventSeverity, EventSource, InvestigationStatus, Priority, Role, Severity
from services import audit
from services.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from services.investigations import query
from services.investigations import service as investigations
from services.investigations.dto import (
    InvestigationCreate,
    InvestigationFilter,
    InvestigationUpdate,
)
from services.tenants import TenantWithUsers
from tests.integration.event_factory import add_events, event

Pair = tuple[TenantWithUsers, TenantWithUsers]
S = InvestigationStatus


def _open(pair: Pair, title: str = "Checkout errors", **fields: object) -> int:
    data = {"title": title, "severity": Severity.HIGH, "service": "checkout", **fields}
    created = investigations.create(
        actor=pair[0].actor(Role.REVIEWER),
        investigation_in=InvestigationCreate.model_validate(data),
    )
    return created.id


def test_editing_changes_only_the_given_fields_audits_them_and_refuses_a_stale_version(
    two_tenants: Pair,
) -> None:
    north, _ = two_tenants
    editor = north.actor(Role.REVIEWER)
    inv_id = _open(two_tenants, tags=["Payments", "payments ", "db"])
    seen = investigations.get(actor=editor, investigation_id=inv_id)
    assert seen.tags == ["payments", "db"] and seen.status is S.OPEN

    changed = investigations.update(
        actor=editor,
        investigation_id=inv_id,
        investigation_in=InvestigationUpdate(
            version=seen.row_version, priority=Priority.P0, component="cart", tags=["sev1"]
        ),
    )
    assert (changed.priority, changed.component, changed.tags) == (Priority.P0, "cart", ["sev1"])
    assert changed.title == "Checkout errors" and changed.row_version == seen.row_version + 1
    with pytest.raises(Conflict, match="changed by someone else"):
        investigations.update(
            actor=editor,
            investigation_id=inv_id,
            investigation_in=InvestigationUpdate(version=seen.row_version, title="Stale"),
        )
    trail = audit.list_for_entity(actor=editor, entity_type="investigation", entity_id=inv_id)
    assert [t.action for t in trail] == ["investigation.created", "investigation.updated"]
    assert trail[1].before == {"priority": "p2", "component": None, "tags": ["payments", "db"]}


def test_resolving_needs_a_root_cause_and_a_closed_investigation_can_be_reopened(
    two_tenants: Pair,
) -> None:
    editor = two_tenants[0].actor(Role.REVIEWER)
    inv_id = _open(two_tenants)
    v = investigations.change_status(
        actor=editor, investigation_id=inv_id, version=1, status=S.IN_PROGRESS
    ).row_version
    with pytest.raises(InvalidTransition, match="root cause"):
        investigations.change_status(
            actor=editor, investigation_id=inv_id, version=v, status=S.RESOLVED
        )
    resolved = investigations.change_status(
        actor=editor,
        investigation_id=inv_id,
        version=v,
        status=S.RESOLVED,
        root_cause="Deploy 41 removed the cart index",
    )
    assert resolved.resolved_at is not None and resolved.started_at is not None
    with pytest.raises(InvalidInput, match="keeps its root cause"):
        investigations.update(
            actor=editor,
            investigation_id=inv_id,
            investigation_in=InvestigationUpdate(version=resolved.row_version, root_cause=""),
        )
    closed = investigations.change_status(
        actor=editor, investigation_id=inv_id, version=resolved.row_version, status=S.CLOSED
    )
    with pytest.raises(InvalidTransition):
        investigations.change_status(
            actor=editor, investigation_id=inv_id, version=closed.row_version, status=S.OPEN
        )
    reopened = investigations.change_status(
        actor=editor,
        investigation_id=inv_id,
        version=closed.row_version,
        status=S.IN_PROGRESS,
        reason="errors are back",
    )
    assert reopened.status is S.IN_PROGRESS and reopened.resolved_at is None
    trail = audit.list_for_entity(actor=editor, entity_type="investigation", entity_id=inv_id)
    assert trail[-1].action == "investigation.reopened" and trail[-1].reason == "errors are back"
    assert trail[-1].before is not None and trail[-1].before["status"] == "closed"


def test_notes_are_appended_and_a_correction_is_a_new_note(two_tenants: Pair) -> None:
    editor = two_tenants[0].actor(Role.REVIEWER)
    inv_id = _open(two_tenants)
    first = investigations.add_note(actor=editor, investigation_id=inv_id, body="DB at 90% CPU")
    fix = investigations.add_note(
        actor=editor, investigation_id=inv_id, body="It was 60% CPU", corrects_note_id=first.id
    )
    notes = investigations.list_notes(actor=editor, investigation_id=inv_id)
    assert [(n.body, n.corrects_note_id) for n in notes] == [
        ("DB at 90% CPU", None),
        ("It was 60% CPU", first.id),
    ]
    assert fix.author_label == editor.display
    with pytest.raises(InvalidInput):
        investigations.add_note(actor=editor, investigation_id=inv_id, body="   ")
    assert not hasattr(investigations, "edit_note") and not hasattr(investigations, "delete_note")


def test_viewers_read_but_cannot_edit_and_other_tenants_cannot_see_it(two_tenants: Pair) -> None:
    north, south = two_tenants
    inv_id = _open(two_tenants)
    assert investigations.get(actor=north.actor(Role.VIEWER), investigation_id=inv_id).id == inv_id
    with pytest.raises(PermissionDenied):
        investigations.add_note(actor=north.actor(Role.VIEWER), investigation_id=inv_id, body="x")
    with pytest.raises(NotFound):
        investigations.get(actor=south.actor(Role.ADMIN), investigation_id=inv_id)
    with pytest.raises(InvalidInput, match="no user"):
        investigations.create(
            actor=north.actor(Role.ADMIN),
            investigation_in=InvestigationCreate(
                title="x", severity=Severity.LOW, assignee_id=south.users[Role.ADMIN].id
            ),
        )
    assert query.search(actor=south.actor(Role.ADMIN)).items == []


def test_search_filters_by_every_field_and_pages_by_keyset_without_gaps(two_tenants: Pair) -> None:
    north, _ = two_tenants
    reader = north.actor(Role.VIEWER)
    now = utcnow()
    assignee = north.users[Role.REVIEWER].id
    for i in range(7):
        _open(
            two_tenants,
            title=f"Latency {i}",
            detected_at=now - timedelta(hours=i),
            severity=Severity.CRITICAL if i % 2 else Severity.LOW,
            service="search" if i < 3 else "checkout",
            tags=["db"] if i == 4 else [],
            assignee_id=assignee if i == 5 else None,
        )
    f = InvestigationFilter

    def titles(flt: InvestigationFilter) -> list[str]:
        return [i.title for i in query.search(actor=reader, filters=flt).items]

    assert titles(f(severities=[Severity.CRITICAL])) == ["Latency 1", "Latency 3", "Latency 5"]
    assert titles(f(service="search", text="ATENCY 2")) == ["Latency 2"]
    assert titles(f(tag="DB")) == ["Latency 4"]
    assert titles(f(assignee_id=assignee)) == ["Latency 5"]
    assert titles(
        f(
            detected_from=now - timedelta(hours=2, minutes=30),
            detected_to=now - timedelta(minutes=30),
        )
    ) == ["Latency 1", "Latency 2"]
    assert titles(f(statuses=[S.RESOLVED])) == []
    seen: list[str] = []
    cursor = None
    while True:
        page = query.search(actor=reader, cursor=cursor, limit=3)
        assert page.total == 7
        seen += [i.title for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"Latency {i}" for i in range(7)]
    with pytest.raises(InvalidInput, match="damaged"):
        query.search(actor=reader, cursor="not-a-cursor")


def test_timeline_returns_the_events_of_a_range_for_chosen_services_and_sources(
    two_tenants: Pair,
) -> None:
    north, south = two_tenants
    reader = north.actor(Role.VIEWER)
    t0 = utcnow() - timedelta(hours=3)
    ids = add_events(
        north.tenant.id,
        [
            event(EventSource.CI, "deploy", t0, "checkout"),
            event(
                EventSource.LOGS,
                "log_error",
                t0 + timedelta(minutes=5),
                "checkout",
                severity=EventSeverity.HIGH,
                message="boom",
            ),
            event(EventSource.LOGS, "log_error", t0 + timedelta(minutes=6), "search"),
            event(EventSource.GIT, "commit", t0 + timedelta(hours=2), "checkout"),
        ],
    )
    add_events(south.tenant.id, [event(EventSource.CI, "deploy", t0, "checkout")])
    window = query.timeline(actor=reader, start=t0, end=t0 + timedelta(hours=1))
    assert window.ids == ids[:3] and window.sources == ["ci", "logs", "logs"]
    assert window.occurred_ms[0] == round(t0.timestamp() * 1000) and not window.truncated
    narrow = query.timeline(
        actor=reader,
        start=t0,
        end=t0 + timedelta(hours=3),
        services=["checkout"],
        sources=[EventSource.LOGS, EventSource.GIT],
    )
    assert narrow.ids == [ids[1], ids[3]] and narrow.severities == ["high", "info"]
    capped = query.timeline(actor=reader, start=t0, end=t0 + timedelta(hours=3), limit=2)
    assert capped.truncated and len(capped.ids) == 2
    full = query.get_event(actor=reader, event_id=ids[1])
    assert full.data == {"message": "boom"} and len(full.payload_hash) == 64
    with pytest.raises(NotFound):
        query.get_event(actor=south.actor(Role.ADMIN), event_id=ids[1])
    with pytest.raises(InvalidInput, match="after its start"):
        query.timeline(actor=reader, start=t0, end=t0)
