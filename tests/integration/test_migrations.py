"""The migrations build the whole schema (tables, indexes, triggers), come down cleanly step by
step, and match the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import domain.models  # noqa: F401
from domain.base import Base
from services import db, migrate


def _tables(url: str) -> set[str]:
    """Our tables (not Alembic's, nor SQLite's FTS5 search index and its shadow tables)."""
    names = set(inspect(db.get_engine(url)).get_table_names()) - {"alembic_version"}
    return {n for n in names if not n.startswith(migrate.UNMANAGED_TABLE_PREFIX)}


PG_TRIGGERS = (
    "SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
    "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
)
# Our functions (the triggers' bodies), not those of an extension such as pg_trgm.
PG_FUNCTIONS = (
    "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
    "WHERE n.nspname = 'public' AND NOT EXISTS "
    "(SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
)
SQLITE_TRIGGERS = "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"


def _schema(url: str) -> dict[str, set[Any]]:
    """Tables, indexes (name, table, columns, unique), triggers and trigger functions as built."""
    engine = db.get_engine(url)
    tables = _tables(url)
    inspector = inspect(engine)
    indexes = {
        (i["name"], table, tuple(i["column_names"]), bool(i["unique"]))
        for table in tables
        for i in inspector.get_indexes(table)
    }
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            triggers = {tuple(r) for r in conn.execute(text(SQLITE_TRIGGERS))}
            functions: set[Any] = set()
        else:
            triggers = {tuple(r) for r in conn.execute(text(PG_TRIGGERS))}
            functions = {tuple(r) for r in conn.execute(text(PG_FUNCTIONS))}
    return {"tables": tables, "indexes": indexes, "triggers": triggers, "functions": functions}


def _revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


EMPTY: dict[str, set[Any]] = {
    "tables": set(),
    "indexes": set(),
    "triggers": set(),
    "functions": set(),
}


def _differences(now: dict[str, set[Any]], then: dict[str, set[Any]]) -> dict[str, Any]:
    """Per kind of object: what is there now and was not then, and what was there and is gone."""
    return {
        kind: {"left behind": now[kind] - then[kind], "lost": then[kind] - now[kind]}
        for kind in now
        if now[kind] != then[kind]
    }


def test_upgrade_downgrade_and_upgrade_again_leaves_the_full_schema(empty_url: str) -> None:
    assert migrate.is_empty(empty_url)
    migrate.upgrade(empty_url)
    built = _schema(empty_url)
    assert built["tables"] == set(Base.metadata.tables)
    model_indexes = {(i.name, t.name) for t in Base.metadata.sorted_tables for i in t.indexes}
    assert model_indexes <= {(name, table) for name, table, *_ in built["indexes"]}
    trigger_names = {name for name, *_ in built["triggers"]}
    assert {"trg_metric_reviews_insert", "trg_metric_runs_update"} <= trigger_names or {
        "trg_metric_reviews",
        "trg_metric_runs",
    } <= trigger_names  # the metric rollups (SQLite: one per event; PostgreSQL: one per table)
    assert any("audit" in name for name in trigger_names)  # the audit's append-only guards
    assert migrate.current(empty_url) == migrate.head()

    migrate.downgrade(empty_url, "base")
    assert _schema(empty_url) == EMPTY
    assert migrate.current(empty_url) is None

    migrate.upgrade(empty_url)
    assert _schema(empty_url) == built


def test_each_downgrade_restores_the_schema_its_upgrade_started_from(empty_url: str) -> None:
    revisions = _revisions()
    went_up = {}
    for revision in revisions:
        migrate.upgrade(empty_url, revision)
        went_up[revision] = _schema(empty_url)
    for revision in reversed(revisions[:-1]):
        migrate.downgrade(empty_url, revision)
        assert _differences(_schema(empty_url), went_up[revision]) == {}, revision
    migrate.downgrade(empty_url, "base")
    assert _differences(_schema(empty_url), EMPTY) == {}


def test_autogenerate_against_the_models_finds_nothing_to_change(db_url: str) -> None:
    with db.get_engine(db_url).connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": migrate.include_object}
        )
        assert compare_metadata(context, Base.metadata) == []
