"""Engines and the session factory. One engine per URL per process, cached."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from services import scoping
from services.config import get_settings, parse_database_url
from services.errors import InvalidInput

SessionFactory = Callable[[], Session]


def parse_url(raw: str) -> URL:
    """The database URL, or InvalidInput naming what is wrong with it."""
    try:
        return parse_database_url(raw)
    except ValueError as exc:
        raise InvalidInput(f"REVO_DATABASE_URL {exc}") from exc


def absolute_url(raw: str) -> URL:
    """The URL with a relative SQLite path made absolute (so a chdir keeps the same file)."""
    url = parse_url(raw)
    database = url.database or ""
    is_file = database not in {"", ":memory:"} and not database.startswith("file:")
    if url.get_backend_name() == "sqlite" and is_file:
        url = url.set(database=str(Path(database).expanduser().resolve()))
    return url


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins (see "begin" below).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front so two writers queue on busy_timeout instead of
        # failing with "database is locked" when a read lock cannot be upgraded.
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


@lru_cache(maxsize=8)
def get_engine(raw_url: str) -> Engine:
    """The process-wide engine for a URL."""
    settings = get_settings()
    url = parse_url(raw_url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=settings.db_pool_size, max_overflow=10)


class _State:
    factory: sessionmaker[Session] | None = None
    url: str | None = None


def configure(raw_url: str | None = None) -> sessionmaker[Session]:
    """Point the unit of work at a database (the settings' URL unless one is given)."""
    url = raw_url or get_settings().database_url
    engine = get_engine(url)
    _State.factory = sessionmaker(bind=engine, expire_on_commit=False)
    _State.url = url
    scoping.install(_State.factory)
    return _State.factory


def session_factory() -> sessionmaker[Session]:
    """The configured session factory, configuring from settings on first use."""
    return _State.factory or configure()


def current_engine() -> Engine:
    """The engine the unit of work writes to."""
    bind = session_factory().kw["bind"]
    assert isinstance(bind, Engine)
    return bind


def row_locked(query: Select[Any], session: Session, *, skip_locked: bool = False) -> Select[Any]:
    """The query taking row locks on PostgreSQL (``FOR UPDATE``, optionally ``SKIP LOCKED``).

    SQLite has no row locks and needs none: every writer begins ``IMMEDIATE`` and queues.
    """
    if session.get_bind().dialect.name != "postgresql":
        return query
    return query.with_for_update(skip_locked=skip_locked)


def is_sqlite() -> bool:
    """Whether the configured database is SQLite."""
    return current_engine().dialect.name == "sqlite"
