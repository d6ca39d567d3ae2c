"""search stats: per-trigram document counts for SQLite's FTS5 search index

A search reads, from the trigram index (r11sqlitefts), the rows holding every trigram of the
term; for a term like ``inv-b-004217`` most of its trigrams are in a fifth of the queue, and
reading those long lists is what made a rare term cost 40 ms at a million items. Knowing how
many rows hold each trigram lets a search pick its three rarest and check the whole term on
the few rows they share. ``review_items_fts_vocab`` (an ``fts5vocab`` table) gives the counts
exactly but reads a trigram's whole list to count it, so ``review_items_fts_stats`` keeps a
copy, refreshed after a bulk load (services/review/search_index.py); a stale copy only makes a
search slower, never wrong.

The investigations list's text search (title and description) gets a trigram index of its
own, ``investigations_fts``, kept in step by triggers the same way. SQLite only; none of these
are on the models (migrate.py leaves ``review_items_fts*`` and ``investigations_fts*`` alone).

Revision ID: r12search16
Revises: r12audit13
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "r12search16"
down_revision: str | None = "r12audit13"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VOCAB = "review_items_fts_vocab"
STATS = "review_items_fts_stats"
INVESTIGATIONS = "investigations_fts"
COLUMNS = "title, description"
TRIGGERS = {
    f"{INVESTIGATIONS}_insert": (
        "AFTER INSERT ON investigations BEGIN "
        f"INSERT INTO {INVESTIGATIONS}(rowid, {COLUMNS}) "
        "VALUES (new.id, new.title, new.description); END"
    ),
    f"{INVESTIGATIONS}_delete": (
        "AFTER DELETE ON investigations BEGIN "
        f"INSERT INTO {INVESTIGATIONS}({INVESTIGATIONS}, rowid, {COLUMNS}) "
        "VALUES ('delete', old.id, old.title, old.description); END"
    ),
    f"{INVESTIGATIONS}_update": (
        "AFTER UPDATE OF title, description ON investigations BEGIN "
        f"INSERT INTO {INVESTIGATIONS}({INVESTIGATIONS}, rowid, {COLUMNS}) "
        "VALUES ('delete', old.id, old.title, old.description); "
        f"INSERT INTO {INVESTIGATIONS}(rowid, {COLUMNS}) "
        "VALUES (new.id, new.title, new.description); END"
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {VOCAB} USING fts5vocab(review_items_fts, 'row')"
    )
    op.execute(
        f"CREATE TABLE IF NOT EXISTS {STATS} "
        "(term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID"
    )
    op.execute(f"INSERT OR REPLACE INTO {STATS}(term, docs) SELECT term, doc FROM {VOCAB}")
    op.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {INVESTIGATIONS} USING fts5({COLUMNS}, "
        "content='investigations', content_rowid='id', tokenize='trigram')"
    )
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
    op.execute(f"INSERT INTO {INVESTIGATIONS}({INVESTIGATIONS}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(f"DROP TABLE IF EXISTS {INVESTIGATIONS}")
    op.execute(f"DROP TABLE IF EXISTS {STATS}")
    op.execute(f"DROP TABLE IF EXISTS {VOCAB}")
