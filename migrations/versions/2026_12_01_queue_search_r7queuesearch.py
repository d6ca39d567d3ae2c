"""queue search: a trigram index so the queue's text search does not read every row (PostgreSQL)

The queue searches with ``search_text LIKE '%word%'``. On PostgreSQL a GIN index over trigrams
(the ``pg_trgm`` extension, which any database owner may create since PostgreSQL 13) answers
that without a scan. Where the extension cannot be created the search still works, unindexed.
SQLite keeps the plain scan. The index is not on the models (it is one engine's); migrate.py
tells autogenerate to leave it alone.

Revision ID: r7queuesearch
Revises: r3reviewqueue
Create Date: 2026-12-01 19:45:00
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "r7queuesearch"
down_revision: str | None = "r3reviewqueue"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_review_items_search_trgm"
log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        log.warning("pg_trgm unavailable (%s); the queue's text search stays unindexed", exc.orig)
        return
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON review_items USING gin (search_text gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
