"""How SQLite's search picks its candidates (services/review/search_index.py): the needle's
rarest trigrams by the stored counts, a recount of trigrams the counts lack, the page and its
count in one statement, and the ordinary path when the counts were wrong. Results are checked
on both engines against a plain substring test (PostgreSQL's path is exactly that)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import text

from domain.base import utcnow
from domain.enums import ReviewKind, Role
from services import db, review
from services.review import ReviewQueueFilter, queue, search_index
from services.tenants import TenantWithUsers, create_tenant_with_users
from services.uow import UnitOfWork
from tests.integration import review_support as rs
from tests.support.databases import clear_tables

Pair = tuple[TenantWithUsers, TenantWithUsers]


def _items(tenant_id: int, texts: list[str]) -> list[int]:
    lead = rs.lead(tenant_id, email=f"{uuid.uuid4().hex[:10]}@example.test")
    made = []
    start = utcnow() + timedelta(hours=1)
    for n, search_text in enumerate(texts):
        item = rs.draft(tenant_id, ReviewKind.OUTREACH_EMAIL, lead)
        # Distinct due times, so the page order (due, id) is known: the order written.
        rs.set_item(item.id, search_text=search_text, due_at=start + timedelta(minutes=n))
        made.append(item.id)
    return made


def _search(actor: object, needle: str, limit: int = 200) -> review.ReviewItemPage:
    return review.list_queue(actor=actor, filters=ReviewQueueFilter(search=needle), limit=limit)  # type: ignore[arg-type]


@pytest.fixture
def sqlite_tenants(sqlite_url: str) -> Iterator[Pair]:
    """Two tenants on the SQLite database only: the trigram counts are SQLite's (PostgreSQL
    plans with its own), so these tests have no PostgreSQL case to skip."""
    db.configure(sqlite_url)
    try:
        yield (
            create_tenant_with_users(slug="north", name="North Ltd", email_domain="north.test"),
            create_tenant_with_users(slug="south", name="South plc", email_domain="south.test"),
        )
    finally:
        clear_tables(sqlite_url)


def _refresh() -> None:
    with UnitOfWork(None) as uow:
        search_index.refresh_stats(uow.session.connection())
        uow.commit()


# Every trigram of "walrus" is in many rows; only two hold the word, in order.
COMMON = ["walnut rusty", "wal", "alrus", "lru", "rus", "walru", "us wal"] * 3
WALRUS = ["the walrus", "WALRUS? walrus!"]


def test_a_needle_of_common_trigrams_finds_just_its_rows(two_tenants: Pair) -> None:
    north, south = two_tenants
    noise = _items(north.tenant.id, COMMON)
    hits = _items(north.tenant.id, [t.lower() for t in WALRUS])
    _items(south.tenant.id, WALRUS)
    _refresh()
    actor = north.actor(Role.REVIEWER)
    for needle in ["walrus", "WALRUS", "alru", "us wal", "walnut rusty"]:
        page = _search(actor, needle)
        ids = {r.id for r in page.items}
        texts = dict(zip(noise + hits, [*COMMON, *(t.lower() for t in WALRUS)], strict=True))
        assert ids == {i for i in noise + hits if needle.lower() in texts[i]}, needle
        assert page.total == len(ids) and not page.total_capped, needle


def test_the_rarest_trigrams_are_picked_by_the_stored_counts(sqlite_tenants: Pair) -> None:
    north, _ = sqlite_tenants
    _items(north.tenant.id, ["walrus", *COMMON])
    _refresh()
    with UnitOfWork(None, readonly=True) as uow:
        # "alr" is in 7 rows ("walrus", "alrus", "walru"), "lru" in 10, "rus" in 10, "wal" in 13.
        picked, at_most = search_index.rarest(uow.session, "walrus")
        counts = dict(
            uow.session.execute(text("SELECT term, doc FROM review_items_fts_vocab")).all()
        )
    expected = sorted(search_index.trigrams("walrus"), key=lambda g: counts[g])
    assert picked == expected[:3]
    assert picked[0] == "alr" and "wal" not in picked
    assert at_most == counts["alr"] == 7


def test_trigrams_the_counts_lack_are_counted_in_the_index(sqlite_tenants: Pair) -> None:
    north, _ = sqlite_tenants
    _items(north.tenant.id, ["walrus"] * 3)
    _refresh()
    _items(north.tenant.id, ["narwhal", "narwhal", "walrus narwhal"])  # written after the count
    with UnitOfWork(None, readonly=True) as uow:
        picked, at_most = search_index.rarest(uow.session, "walrus narwhal")
    # Trigrams new since the count are counted, not taken as empty: "nar" (3 rows) is not
    # picked, the three in "walrus narwhal" alone are.
    assert picked == ["us ", "s n", " na"] and at_most == 1
    actor = north.actor(Role.REVIEWER)
    assert _search(actor, "narwhal").total == 3
    assert _search(actor, "walrus narwhal").total == 1


def test_wrong_counts_make_a_search_slower_never_wrong(
    two_tenants: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    north, _ = two_tenants
    ids = _items(north.tenant.id, ["a walrus", "two walruses", "walrus three", "no"])
    _refresh()
    with UnitOfWork(None) as uow:
        if uow.session.get_bind().dialect.name == "sqlite":  # every trigram "in one row"
            uow.session.execute(text("UPDATE review_items_fts_stats SET docs = 1"))
            uow.commit()
    monkeypatch.setattr(queue, "LIST_COUNT_CAP", 2)  # three matches: past the cap
    page = _search(north.actor(Role.REVIEWER), "walrus", limit=2)
    assert [r.id for r in page.items] == ids[:2]
    assert page.total == 2 and page.total_capped


def test_pages_of_a_rare_term_follow_each_other(two_tenants: Pair) -> None:
    north, _ = two_tenants
    ids = _items(north.tenant.id, [f"walrus number {n}" for n in range(5)] + ["seal"] * 3)
    _refresh()
    actor = north.actor(Role.REVIEWER)
    seen: list[int] = []
    cursor = None
    for _ in range(4):
        page = review.list_queue(
            actor=actor, filters=ReviewQueueFilter(search="Walrus"), limit=2, cursor=cursor
        )
        assert page.total == 5 and not page.total_capped
        seen += [r.id for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ids[:5] and cursor is None
    unsorted = review.list_queue(
        actor=actor, filters=ReviewQueueFilter(search="walrus"), with_total=False
    )
    assert unsorted.total is None and [r.id for r in unsorted.items] == ids[:5]


def test_a_bulk_load_counts_its_trigrams(sqlite_tenants: Pair) -> None:
    from services.seed.bulk import seed_bulk

    seed_bulk(review_items=300, runs=0, llm_calls=0, events=0, tenant_slug="bulk-stats")
    with UnitOfWork(None, readonly=True) as uow:
        s = uow.session
        stored = dict(s.execute(text("SELECT term, docs FROM review_items_fts_stats")).all())
        counted = dict(s.execute(text("SELECT term, doc FROM review_items_fts_vocab")).all())
    assert stored == counted and stored["inv"] > 0
