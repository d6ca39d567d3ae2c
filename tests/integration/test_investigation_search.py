"""The investigations list's text search: SQLite reads candidates from its trigram index
(r12search16), PostgreSQL scans; both list exactly the investigations whose title or
description holds the term (any ASCII case), also after edits and deletes."""

from __future__ import annotations

from sqlalchemy import delete, text

from domain.enums import Role, Severity
from domain.models import Investigation
from services.investigations import query
from services.investigations import service as investigations
from services.investigations.dto import (
    InvestigationCreate,
    InvestigationFilter,
    InvestigationUpdate,
)
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork

Pair = tuple[TenantWithUsers, TenantWithUsers]
ROWS = [
    ("Checkout latency", "p95 over 2s since the deploy"),
    ("Search errors", 'users see "500" on 100% of queries'),
    ("Disk full on db-2", "back\\slash in the path; off_by_one"),
    ("Latency in search", ""),
]
NEEDLES = [
    "latency", "LATENCY IN", "search", "100%", "%", "_", "off_", "back\\slash", '"500"',
    "db-2", "p9", "s", "since the deploy", "nowhere", "errors users",
]  # fmt: skip


def _open(pair: Pair, title: str, description: str) -> int:
    data = {"title": title, "description": description, "severity": Severity.HIGH}
    made = investigations.create(
        actor=pair[0].actor(Role.REVIEWER),
        investigation_in=InvestigationCreate.model_validate(data),
    )
    return made.id


def _found(pair: Pair, needle: str) -> set[int]:
    page = query.search(
        actor=pair[0].actor(Role.VIEWER), filters=InvestigationFilter(text=needle), limit=200
    )
    return {i.id for i in page.items}


def _index_is_consistent() -> None:
    check = "INSERT INTO investigations_fts(investigations_fts, rank) VALUES ('integrity-check', 1)"
    with UnitOfWork(None) as uow:
        conn = uow.session.connection()
        if conn.dialect.name == "sqlite":
            conn.execute(text(check))


def test_a_term_finds_exactly_the_investigations_holding_it(two_tenants: Pair) -> None:
    north, south = two_tenants
    made = {_open(two_tenants, t, d): f"{t}\n{d}".lower() for t, d in ROWS}
    _open((south, north), "Checkout latency", "another tenant's")
    for needle in NEEDLES:
        expected = {i for i, body in made.items() if needle.lower() in body}
        # A term never spans title and description ("errors users").
        assert _found(two_tenants, needle) == expected, needle
    _index_is_consistent()


def test_the_index_follows_edits_and_deletes(two_tenants: Pair) -> None:
    north, _ = two_tenants
    turbine = _open(two_tenants, "Turbine vibration", "bearing wear")
    gearbox = _open(two_tenants, "Gearbox noise", "bearing wear")
    editor = north.actor(Role.REVIEWER)
    seen = investigations.get(actor=editor, investigation_id=turbine)
    investigations.update(
        actor=editor,
        investigation_id=turbine,
        investigation_in=InvestigationUpdate(
            version=seen.row_version, title="Windmill vibration", description="blade crack"
        ),
    )
    assert _found(two_tenants, "turbine") == set()
    assert _found(two_tenants, "windmill") == {turbine}
    assert _found(two_tenants, "blade") == {turbine}
    with UnitOfWork(None) as uow:
        uow.session.execute(delete(Investigation).where(Investigation.id == gearbox))
        uow.commit()
    assert _found(two_tenants, "bearing") == set()
    assert _found(two_tenants, "vibration") == {turbine}
    _index_is_consistent()


def test_sqlite_answers_from_the_index(two_tenants: Pair) -> None:
    made = _open(two_tenants, "Checkout latency", "")
    with UnitOfWork(None) as uow:
        conn = uow.session.connection()
        if conn.dialect.name != "sqlite":
            return
        hits = conn.execute(
            text("SELECT count(*) FROM investigations_fts WHERE investigations_fts MATCH :q"),
            {"q": '"kout lat"'},
        ).scalar()
        assert hits == 1
        assert _found(two_tenants, "kout lat") == {made}
        # Taken out of the index (and only there), the row is no longer found: the search
        # reads its candidates from the index.
        conn.execute(
            text(
                "INSERT INTO investigations_fts(investigations_fts, rowid, title, description) "
                "VALUES ('delete', :id, 'Checkout latency', '')"
            ),
            {"id": made},
        )
        uow.commit()
    assert _found(two_tenants, "kout lat") == set()
    assert _found(two_tenants, "la") == {made}  # two characters: no index, a scan
    with UnitOfWork(None) as uow:  # back in step, for the next test's clean-up
        uow.session.execute(
            text("INSERT INTO investigations_fts(rowid, title) VALUES (:id, 'Checkout latency')"),
            {"id": made},
        )
        uow.commit()
    _index_is_consistent()
