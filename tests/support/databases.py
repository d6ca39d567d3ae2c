"""The test databases: where PostgreSQL is, a throwaway database on it, emptying tables."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from domain.base import Base
from services import audit_guards, db

PG_ADMIN_URL = os.environ.get(
    "REVO_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pg_unavailable(reason: str) -> None:
    """Fail in CI, skip elsewhere: the PostgreSQL server cannot be used."""
    if IN_CI:
        pytest.fail(f"PostgreSQL is required in CI but unavailable: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable on 127.0.0.1:5432: {reason}")


@contextmanager
def postgres_database(
    prefix: str, admin_url: str = PG_ADMIN_URL
) -> Iterator[str | OperationalError]:
    """A new, empty PostgreSQL database named after the prefix, dropped afterwards; the
    connection error instead when the server cannot be reached (tests and bench share this)."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        yield exc
        return
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        db.get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def unreachable_reason(exc: OperationalError) -> str:
    """The first line of the driver's message, for a skip or a log line."""
    return str(exc.orig or exc).strip().splitlines()[0]


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for a test (skipped, or failed in CI, if unreachable)."""
    with postgres_database(prefix) as url:
        if isinstance(url, OperationalError):
            pg_unavailable(unreachable_reason(url))
            raise AssertionError("unreachable")  # pg_unavailable raises
        yield url


def clear_tables(url: str) -> None:
    """Empty every table of the models (the audit's append-only guards lifted meanwhile)."""
    engine = db.get_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            # The audit is append-only (triggers): lift the guards to empty it, then restore them.
            audit_guards.remove(conn)
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            audit_guards.install(conn)
