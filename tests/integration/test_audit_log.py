"""The audit log service: tenant-scoped, filtered, paged newest first, diffed, exported safely."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from domain.enums import Role
from services import audit, audit_log
from services.errors import InvalidInput, PermissionDenied
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork

Pair = tuple[TenantWithUsers, TenantWithUsers]


def _record(pair: TenantWithUsers, role: Role = Role.ADMIN, **kwargs: object) -> None:
    with UnitOfWork(pair.actor(role)) as uow:
        audit.record(uow, **kwargs)  # type: ignore[arg-type]
        uow.commit()


def test_search_is_tenant_scoped_filtered_and_paged_newest_first(two_tenants: Pair) -> None:
    north, south = two_tenants
    for i in range(5):
        _record(north, action="deal.updated", entity_type="deal", entity_id=i, after={"n": i})
    _record(
        north,
        Role.FINANCE,
        action="invoice.voided",
        entity_type="invoice",
        entity_id=9,
        reason="100% duplicate_ref",
    )
    _record(south, action="deal.updated", entity_type="deal", entity_id=1)
    viewer = north.actor(Role.VIEWER)

    everything = audit_log.search(actor=viewer, filter_in=audit_log.AuditFilter(), limit=4)
    assert everything.total == 7 and len(everything.items) == 4  # tenant.created included
    assert everything.items[0].action == "invoice.voided"
    rest = audit_log.search(
        actor=viewer, filter_in=audit_log.AuditFilter(), cursor=everything.next_cursor, limit=4
    )
    assert len(rest.items) == 3 and rest.next_cursor is None
    ids = [e.id for e in everything.items + rest.items]
    assert ids == sorted(ids, reverse=True)

    finance_id = north.users[Role.FINANCE].id
    by_actor = audit_log.search(actor=viewer, filter_in=audit_log.parse_filter(actor_id=finance_id))
    assert [e.action for e in by_actor.items] == ["invoice.voided"]
    deal_3 = audit_log.parse_filter(entity_type="deal", entity_id="3")
    assert [e.entity_id for e in audit_log.search(actor=viewer, filter_in=deal_3).items] == [3]
    # Free text is literal: % and _ match themselves, and JSON values are searched too.
    text = audit_log.search(actor=viewer, filter_in=audit_log.parse_filter(text="100% DUP"))
    assert [e.action for e in text.items] == ["invoice.voided"]
    assert audit_log.search(actor=viewer, filter_in=audit_log.parse_filter(text="1_0%")).total == 0
    later = datetime.now(UTC) + timedelta(days=1)
    none = audit_log.search(actor=viewer, filter_in=audit_log.parse_filter(since=later))
    assert none.total == 0


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"entity_id": "abc"}, "entity_id"),
        ({"entity_id": "-1"}, "entity_id"),
        ({"text": "x" * 201}, "text"),
        ({"text": "a\x00b"}, "NUL"),
        ({"since": datetime(2026, 1, 1)}, "time zone"),
        (
            {"since": datetime(2026, 2, 1, tzinfo=UTC), "until": datetime(2026, 1, 1, tzinfo=UTC)},
            "after its end",
        ),
    ],
)
def test_a_bad_filter_is_refused_with_a_clear_message(
    values: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        audit_log.parse_filter(**values)


def test_the_audit_log_is_for_admins_and_viewers_only(two_tenants: Pair) -> None:
    for role in (Role.REVIEWER, Role.SDR, Role.SALES, Role.FINANCE):
        with pytest.raises(PermissionDenied):
            audit_log.search(actor=two_tenants[0].actor(role), filter_in=audit_log.AuditFilter())
    assert audit_log.search(
        actor=two_tenants[0].actor(Role.ADMIN), filter_in=audit_log.AuditFilter()
    ).items


def test_diff_and_csv_export_show_changes_and_never_run_formulas(two_tenants: Pair) -> None:
    north = two_tenants[0]
    _record(
        north,
        action="lead.updated",
        entity_type="lead",
        entity_id=1,
        before={"name": "Ada", "status": "new"},
        after={"name": '=HYPERLINK("http://x")', "status": "new", "score": 3},
        reason="@SUM(A1)",
    )
    viewer = north.actor(Role.VIEWER)
    (entry,) = audit_log.search(
        actor=viewer, filter_in=audit_log.parse_filter(action="lead.updated")
    ).items
    lines = {d.field: (d.before, d.after) for d in audit_log.diff(entry)}
    assert lines == {"name": ("Ada", '=HYPERLINK("http://x")'), "score": (None, "3")}

    rows = list(
        csv.reader(
            io.StringIO(audit_log.export_csv(actor=viewer, filter_in=audit_log.AuditFilter()))
        )
    )
    assert rows[0][:4] == ["entry", "time", "actor", "action"]
    lead = next(r for r in rows if r[3] == "lead.updated")
    assert lead[6] == "'@SUM(A1)"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
