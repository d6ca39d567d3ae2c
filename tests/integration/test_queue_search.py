"""The queue's text search: SQLite answers from its FTS5 trigram index, PostgreSQL from its
trigram GIN index, and both give exactly the rows whose search text holds the term (any case),
also after edits and deletes."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, text

from domain.enums import ReviewKind, Role
from domain.models import ReviewItem
from services import review
from services.review import ReviewQueueFilter
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration import review_support as rs

Pair = tuple[TenantWithUsers, TenantWithUsers]
TEXTS = [
    "acme robotics proposal 117300 eur",
    "invoice inv-2026-0042 müller gmbh level 2",
    'jane doe "quoted" 100% off_sale',
    "straße ärger ÇA VA ñandú",
    "",
    "ab",
    "emoji 🚀 launch 🚀🚀",
    "back\\slash and 50%_discount",
]
NEEDLES = [
    "acme", "ACME ROB", "inv-2026", "müller", "MÜLLER", "100%", "off_", "%", "_", '"quoted"',
    "ab", "a", "🚀🚀", "back\\slash", "50%_d", "straße", "ça va", "nothing here", "ro",
]  # fmt: skip


def _items(tenant_id: int, texts: list[str]) -> dict[int, str]:
    lead = rs.lead(tenant_id, email=f"{uuid.uuid4().hex[:10]}@example.test")
    made = {}
    for search_text in texts:
        item = rs.draft(tenant_id, ReviewKind.OUTREACH_EMAIL, lead)
        rs.set_item(item.id, search_text=search_text)
        made[item.id] = search_text
    return made


def _found(actor: object, needle: str) -> set[int]:
    page = review.list_queue(actor=actor, filters=ReviewQueueFilter(search=needle), limit=200)  # type: ignore[arg-type]
    return {row.id for row in page.items}


def _expected(items: dict[int, str], needle: str) -> set[int]:
    return {i for i, t in items.items() if needle.strip().lower() in t.lower()}


def _fts_is_consistent() -> None:
    """SQLite checks its index against review_items (an error when they disagree)."""
    check = "INSERT INTO review_items_fts(review_items_fts, rank) VALUES ('integrity-check', 1)"
    with UnitOfWork(None) as uow:
        conn = uow.session.connection()
        if conn.dialect.name == "sqlite":
            conn.execute(text(check))


def test_search_finds_exactly_the_items_holding_the_term(two_tenants: Pair) -> None:
    north, south = two_tenants
    items = _items(north.tenant.id, [t.lower() for t in TEXTS])
    _items(south.tenant.id, TEXTS)  # another tenant's matches never show
    actor = north.actor(Role.REVIEWER)
    for needle in NEEDLES:
        assert _found(actor, needle) == _expected(items, needle), needle
    _fts_is_consistent()


def test_the_index_follows_edits_and_deletes(two_tenants: Pair) -> None:
    north, _ = two_tenants
    actor = north.actor(Role.REVIEWER)
    items = _items(north.tenant.id, ["first draft about turbines", "second about gearboxes"])
    turbines, gearboxes = items
    rs.set_item(turbines, search_text="now about windmills")
    assert _found(actor, "turbines") == set()
    assert _found(actor, "windmills") == {turbines}
    with UnitOfWork(None) as uow:
        uow.session.execute(delete(ReviewItem).where(ReviewItem.id == gearboxes))
        uow.commit()
    assert _found(actor, "gearboxes") == set()
    assert _found(actor, "about") == {turbines}
    _fts_is_consistent()


words = st.text(st.sampled_from("abcAB %_\"'ßü🚀"), max_size=12)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(texts=st.lists(words.map(str.lower), min_size=1, max_size=5), needle=words)
def test_any_term_finds_what_a_substring_test_finds(
    two_tenants: Pair, texts: list[str], needle: str
) -> None:
    north, _ = two_tenants
    with UnitOfWork(None) as uow:  # each example starts from an empty queue
        uow.session.execute(delete(ReviewItem))
        uow.commit()
    items = _items(north.tenant.id, texts)
    assert _found(north.actor(Role.REVIEWER), needle) == _expected(items, needle)


@pytest.mark.parametrize("needle", ["acme", "zzz"])
def test_each_engine_has_its_index(two_tenants: Pair, needle: str) -> None:
    north, _ = two_tenants
    _items(north.tenant.id, ["acme robotics"])
    with UnitOfWork(None) as uow:
        conn = uow.session.connection()
        if conn.dialect.name == "sqlite":
            hits = conn.execute(
                text("SELECT count(*) FROM review_items_fts WHERE review_items_fts MATCH :q"),
                {"q": f'"{needle}"'},
            ).scalar()
            assert hits == (1 if needle == "acme" else 0)
        else:
            indexes = conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename = 'review_items'")
            ).scalars()
            assert "ix_review_items_search_trgm" in set(indexes)


def test_a_bulk_load_is_indexed_too(two_tenants: Pair) -> None:
    from services.seed.bulk import seed_bulk

    north, _ = two_tenants
    before = _items(north.tenant.id, ["written before the load: turbines"])
    seed_bulk(review_items=300, runs=0, llm_calls=0, events=0, tenant_slug="bulk-fts")
    after = _items(north.tenant.id, ["written after the load: turbines"])
    assert _found(north.actor(Role.REVIEWER), "turbines") == set(before) | set(after)
    loaded = "SELECT id FROM review_items WHERE search_text LIKE '%inv-b-%'"
    indexed = "SELECT rowid FROM review_items_fts WHERE review_items_fts MATCH '\"inv-b-\"'"
    with UnitOfWork(None, readonly=True) as uow:
        expected = set(uow.session.execute(text(loaded)).scalars())
        if uow.session.get_bind().dialect.name == "sqlite":
            assert set(uow.session.execute(text(indexed)).scalars()) == expected != set()
    _fts_is_consistent()
