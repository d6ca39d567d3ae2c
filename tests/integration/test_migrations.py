"""The baseline migration builds the whole schema, comes down cleanly, and matches the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

import domain.models  # noqa: F401
from domain.base import Base
from services import db, migrate
from tests.conftest import PG_ADMIN_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    request.getfixturevalue("postgres_url")  # fails in CI / skips locally without PostgreSQL
    name = f"revo_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        db.get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
