"""The baseline migration builds the whole schema, comes down cleanly, and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import domain.models  # noqa: F401
from domain.base import Base
from services import db, migrate


def _tables(url: str) -> set[str]:
    """Our tables (not Alembic's, nor SQLite's FTS5 search index and its shadow tables)."""
    names = set(inspect(db.get_engine(url)).get_table_names()) - {"alembic_version"}
    return {n for n in names if not n.startswith(migrate.UNMANAGED_TABLE_PREFIX)}


def test_upgrade_downgrade_and_upgrade_again_leaves_the_full_schema(empty_url: str) -> None:
    assert migrate.is_empty(empty_url)
    migrate.upgrade(empty_url)
    assert _tables(empty_url) == set(Base.metadata.tables)
    assert migrate.current(empty_url) == migrate.head()

    migrate.downgrade(empty_url, "base")
    assert _tables(empty_url) == set()
    assert migrate.current(empty_url) is None

    migrate.upgrade(empty_url)
    assert _tables(empty_url) == set(Base.metadata.tables)


def test_autogenerate_against_the_models_finds_nothing_to_change(db_url: str) -> None:
    with db.get_engine(db_url).connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": migrate.include_object}
        )
        assert compare_metadata(context, Base.metadata) == []
