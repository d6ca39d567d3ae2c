"""Shared fixtures: a real SQLite file and a real PostgreSQL database, migrated to head.

Every integration test that takes ``db_url`` runs twice, once per engine. Each test starts
with empty tables (they are cleared after every test), so tests may commit as real code does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from services import db, migrate
from services.config import get_settings
from services.tenants import TenantWithUsers, create_tenant_with_users
from tests.support.databases import IN_CI, clear_tables, throwaway_postgres

# AppTest runs app.py inside pytest: its embedded worker must not claim other tests' runs.
os.environ.setdefault("REVO_EMBEDDED_WORKER", "false")


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'revo-test.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with throwaway_postgres("revo_test") as url:
        migrate.upgrade(url)
        yield url


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
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set REVO_* settings for this test, settings(llm_model="mistral") (None unsets one); the
    process's cached settings are read afresh after each call and again after the test."""

    def _set(**values: object) -> None:
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(f"REVO_{name.upper()}", raising=False)
            else:
                monkeypatch.setenv(f"REVO_{name.upper()}", str(value))
        get_settings.cache_clear()

    get_settings.cache_clear()
    yield _set
    get_settings.cache_clear()


@pytest.fixture
def demo_auth(settings: Callable[..., None]) -> None:
    """Settings with demo sign-in turned on (as `revo up` does)."""
    settings(auth_mode="demo")


@pytest.fixture
def loopback() -> Iterator[None]:
    """The console listening on 127.0.0.1, as `revo up` starts it."""
    from streamlit import config as st_config

    previous = st_config.get_option("server.address")
    st_config.set_option("server.address", "127.0.0.1")
    yield
    st_config.set_option("server.address", previous)


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
def auth_mode(settings: Callable[..., None]) -> Callable[..., None]:
    """Set REVO_AUTH_MODE (and any other REVO_* setting) for this test: auth_mode("password")."""

    def _set(mode: str, **values: str) -> None:
        settings(auth_mode=mode, **values)

    return _set


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test is a failure: every tier must really run there."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if IN_CI and skipped and exitstatus == 0:
        print(f"\n{skipped} test(s) skipped in CI: every tier must run in CI", flush=True)
        session.exitstatus = 1
