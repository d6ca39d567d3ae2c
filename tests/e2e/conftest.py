"""A real console (the README's `revo up`) on a free loopback port, and Debian's chromium."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.enums import ReviewKind
from services import db, migrate
from services.tenants import create_tenant_with_users
from tests.integration import review_support as rs
from tests.support.console import ROOT, free_port, wait_healthy
from tests.support.databases import IN_CI

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def console_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`revo up` on an empty SQLite file: migrate, seed demo data, serve on loopback."""
    workdir = tmp_path_factory.mktemp("console")
    port = free_port()
    log = workdir / "console.log"
    env = {
        **os.environ,
        "REVO_DATABASE_URL": f"sqlite:///{workdir / 'revo.db'}",
        "REVO_EMBEDDED_WORKER": "false",
    }
    cmd = [sys.executable, "-m", "cli", "up", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log, timeout=90)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("Debian's chromium (/usr/bin/chromium) is required in CI", pytrace=False)
        pytest.skip("no /usr/bin/chromium: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def queue_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A console on loopback over a SQLite file holding a tenant and two outreach drafts."""
    workdir = tmp_path_factory.mktemp("review-console")
    url = f"sqlite:///{workdir / 'revo.db'}"
    migrate.upgrade(url)
    db.configure(url)
    acme = create_tenant_with_users(slug="acme", name="Acme Robotics", email_domain="acme.test")
    t = acme.tenant.id
    item = rs.draft(t, ReviewKind.OUTREACH_EMAIL, rs.lead(t))
    rs.draft(t, ReviewKind.OUTREACH_EMAIL, rs.lead(t, email="max@example.test"), label="Max")
    port = free_port()
    log = workdir / "console.log"
    env = {**os.environ, "REVO_AUTH_MODE": "demo", "REVO_DATABASE_URL": url}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    console = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(console, proc, log, timeout=90)
        yield console, item.id
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        db.configure(url)
