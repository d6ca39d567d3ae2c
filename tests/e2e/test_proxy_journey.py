"""Proxy mode in a real browser: a request that carries the authenticating proxy's shared secret
signs in the person its identity header names; the same header without the secret (someone who
reached the console directly) signs nobody in."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from services import db, migrate
from services.tenants import create_tenant_with_users
from tests.support.console import ROOT, free_port, wait_healthy

pytestmark = pytest.mark.e2e
SECRET = "proxy-shared-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def proxied_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("proxy-console")
    url = f"sqlite:///{workdir / 'revo.db'}"
    migrate.upgrade(url)
    db.configure(url)
    create_tenant_with_users(slug="acme", name="Acme Robotics", email_domain="acme.test")
    port = free_port()
    log = workdir / "console.log"
    env = {
        **os.environ,
        "REVO_AUTH_MODE": "proxy",
        "REVO_PROXY_SHARED_SECRET": SECRET,
        "REVO_DATABASE_URL": url,
        "REVO_EMBEDDED_WORKER": "false",
    }
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log, timeout=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        db.configure(url)


def _page(browser: Any, headers: dict[str, str]) -> Any:
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, extra_http_headers=headers
    )
    return context.new_page()


def test_the_proxy_s_word_counts_only_with_its_secret(proxied_console: str, browser: Any) -> None:
    through_proxy = _page(
        browser, {"X-Forwarded-Email": "reviewer@acme.test", "X-Revo-Proxy-Secret": SECRET}
    )
    through_proxy.goto(proxied_console)
    expect(through_proxy.get_by_role("heading", name="Revo Console")).to_be_visible(timeout=30_000)
    expect(through_proxy.get_by_text("Acme Robotics · reviewer").first).to_be_visible()
    through_proxy.get_by_role("link", name="Review queue").click()
    expect(through_proxy.get_by_role("heading", name="Review queue")).to_be_visible(timeout=30_000)
    through_proxy.context.close()

    for headers in (
        {"X-Forwarded-Email": "admin@acme.test"},
        {"X-Forwarded-Email": "admin@acme.test", "X-Revo-Proxy-Secret": "guessed"},
    ):
        direct = _page(browser, headers)
        direct.goto(proxied_console)
        expect(direct.get_by_role("heading", name="Sign in to Revo Console")).to_be_visible(
            timeout=30_000
        )
        expect(direct.get_by_text("Acme Robotics · admin")).to_have_count(0)
        direct.context.close()
