"""sqlite search: an FTS5 trigram index over the queue's search text (SQLite)

The queue searches with ``search_text LIKE '%word%'``, which on SQLite reads every row (500 ms at
a million items when nothing matches). An FTS5 table with the ``trigram`` tokenizer (SQLite
3.34+) indexes every three-character run of ``review_items.search_text``; a search of three or
more characters first asks it for the candidate rows and keeps the ``LIKE`` on those, so the
results stay exactly those of the plain scan (and of PostgreSQL's trigram index, r7queuesearch).
Triggers keep it in step with inserts, edits and deletes. The table and its shadow tables are
not on the models; migrate.py tells autogenerate to leave them alone.

Revision ID: r11sqlitefts
Revises: r10signin
Create Date: 2026-12-02 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "r11sqlitefts"
down_revision: str | None = "r10signin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "review_items_fts"
TRIGGERS = {
    "review_items_fts_insert": (
        "AFTER INSERT ON review_items BEGIN "
        f"INSERT INTO {TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END"
    ),
    "review_items_fts_delete": (
        "AFTER DELETE ON review_items BEGIN "
        f"INSERT INTO {TABLE}({TABLE}, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); END"
    ),
    "review_items_fts_update": (
        "AFTER UPDATE OF search_text ON review_items BEGIN "
        f"INSERT INTO {TABLE}({TABLE}, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        f"INSERT INTO {TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END"
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
        "search_text, content='review_items', content_rowid='id', tokenize='trigram')"
    )
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
    op.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
