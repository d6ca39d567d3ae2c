"""search stats: per-trigram document counts for SQLite's FTS5 search index

A search reads, from the trigram index (r11sqlitefts), the rows holding every trigram of the
term; for a term like ``inv-b-004217`` most of its trigrams are in a fifth of the queue, and
reading those long lists is what made a rare term cost 40 ms at a million items. Knowing how
many rows hold each trigram lets a search pick its three rarest and check the whole term on
the few rows they share. ``review_items_fts_vocab`` (an ``fts5vocab`` table) gives the counts
exactly but reads a trigram's whole list to count it, so ``review_items_fts_stats`` keeps a
copy, refreshed after a bulk load (services/review/search_index.py); a stale copy only makes a
search slower, never wrong. SQLite only; not on the models (migrate.py leaves
``review_items_fts*`` alone).

Revision ID: r12search16
Revises: r11audit
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "r12search16"
down_revision: str | None = "r11audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VOCAB = "review_items_fts_vocab"
STATS = "review_items_fts_stats"


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


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"DROP TABLE IF EXISTS {STATS}")
    op.execute(f"DROP TABLE IF EXISTS {VOCAB}")
