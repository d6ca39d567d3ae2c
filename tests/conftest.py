"""Shared fixtures: a real SQLite file and a real PostgreSQL database, migrated to head.

Every integration test that takes ``db_url`` runs twice, once per engine. Each test starts
with empty tables (they are cleared after every test), so tests may commit as real code does.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from domain.base import Base
from services import audit_guards, db, migrate
from services.config import get_settings
from services.tenants import TenantWithUsers, create_tenant_with_users

PG_ADMIN_URL = os.environ.get(
    "REVO_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# AppTest runs app.py inside pytest: its embedded worker must not claim other tests' runs.
os.environ.setdefault("REVO_EMBEDDED_WORKER", "false")


def _pg_unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"PostgreSQL is required in CI but unavailable: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL unavailable on 127.0.0.1:5432: {reason}")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'revo-test.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"revo_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        _pg_unavailable(str(exc.orig).strip().splitlines()[0])
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate.upgrade(url)
        yield url
    finally:
        db.get_engine(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def clear_tables(url: str) -> None:
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated, empty database on each engine, configured as the services' database."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    db.configure(url)
    try:
        yield url
    finally:
        clear_tables(url)


@pytest.fixture
def two_tenants(db_url: str) -> tuple[TenantWithUsers, TenantWithUsers]:
    """Two tenants with one user per role each, on the database under test."""
    return (
        create_tenant_with_users(slug="north", name="North Ltd", email_domain="north.test"),
        create_tenant_with_users(slug="south", name="South plc", email_domain="south.test"),
    )


@pytest.fixture
def demo_auth(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings with demo sign-in turned on (as `revo up` does)."""
    monkeypatch.setenv("REVO_AUTH_MODE", "demo")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_sign_in_address_counts() -> Iterator[None]:
    """The per-address sign-in failure counts live in the process: each test starts from none."""
    from services.identity import rate_limit

    rate_limit.FAILURES.clear()
    yield
    rate_limit.FAILURES.clear()


@pytest.fixture(autouse=True)
def _own_audit_anchor_file(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Each test anchors into a file of its own (ids repeat across tests' emptied tables)."""
    anchors = tmp_path_factory.mktemp("anchors") / "audit-anchors.jsonl"
    monkeypatch.setenv("REVO_AUDIT_ANCHOR_FILE", str(anchors))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def auth_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set REVO_AUTH_MODE (and any other REVO_* setting) for this test: auth_mode("password")."""

    def _set(mode: str, **settings: str) -> None:
        monkeypatch.setenv("REVO_AUTH_MODE", mode)
        for name, value in settings.items():
            monkeypatch.setenv(f"REVO_{name.upper()}", value)
        get_settings.cache_clear()

    yield _set
    get_settings.cache_clear()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failure: every tier must really run there."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if IN_CI and skipped and exitstatus == 0:
        print(f"\n{skipped} test(s) skipped in CI: every tier must run in CI", flush=True)
        session.exitstatus = 1
