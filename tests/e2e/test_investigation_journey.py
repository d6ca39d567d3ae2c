"""A reviewer opens an investigation, reads its timeline, accepts the suspect deploy, resolves."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from domain.base import utcnow
from domain.enums import EventSource, InvestigationStatus, LinkStatus, Role, Severity
from services import db, migrate
from services.investigations import correlation
from services.investigations import service as investigations
from services.investigations.dto import InvestigationCreate
from services.tenants import create_tenant_with_users
from tests.integration.event_factory import add_events, event
from tests.support.console import ARTIFACTS, ROOT, free_port, wait_healthy

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def incident_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """A console on a fresh SQLite file holding one tenant and one checkout incident."""
    workdir = tmp_path_factory.mktemp("incident-console")
    url = f"sqlite:///{workdir / 'revo.db'}"
    migrate.upgrade(url)
    db.configure(url)
    tenant = create_tenant_with_users(slug="north", name="North Ltd", email_domain="north.test")
    reviewer = tenant.actor(Role.REVIEWER)
    detected = utcnow() - timedelta(hours=1)
    inv = investigations.create(
        actor=reviewer,
        investigation_in=InvestigationCreate(
            title="Checkout 500s",
            severity=Severity.CRITICAL,
            service="checkout",
            detected_at=detected,
        ),
    )
    m = timedelta(minutes=1)
    deploy_id, *_ = add_events(
        tenant.tenant.id,
        [
            event(
                EventSource.CI,
                "deploy",
                detected - 15 * m,
                "checkout",
                "Deploy 41 of checkout",
                status="succeeded",
            ),
            event(EventSource.GIT, "commit", detected - 200 * m, "checkout", "Tidy cart code"),
            event(EventSource.LOGS, "log_error", detected - 3 * m, "checkout", "502 from payments"),
        ],
    )
    port = free_port()
    log = workdir / "console.log"
    env = {
        **os.environ,
        "REVO_DATABASE_URL": url,
        "REVO_AUTH_MODE": "demo",
        "REVO_EMBEDDED_WORKER": "false",
    }
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app.py"),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc, log, timeout=90)
        yield f"http://127.0.0.1:{port}", (reviewer, inv.id, deploy_id)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _choose(page: Any, selectbox: str, option: str) -> None:
    """Pick an option; retried because a rerun (the accept's flash message) may close the list."""
    for _ in range(5):
        page.get_by_test_id("stSelectbox").filter(has_text=selectbox).click()
        try:
            page.get_by_role("option", name=option).click(timeout=3_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"could not choose {option!r} in {selectbox!r}")


def test_reviewer_accepts_the_suspect_deploy_on_the_timeline_and_resolves_with_a_root_cause(
    incident_console: tuple[str, Any], browser: Any
) -> None:
    url, (reviewer, inv_id, deploy_id) = incident_console
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.get_by_role("combobox").click()
    page.get_by_role("option", name=re.compile(r"North Ltd .*reviewer@north\.test")).click()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Investigations").click()

    expect(page.get_by_role("heading", name="Investigations")).to_be_visible(timeout=30_000)
    page.locator(f".st-key-open_{inv_id} button").click()
    expect(page.get_by_role("heading", name=f"#{inv_id} Checkout 500s")).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_test_id("stPlotlyChart")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"^3 events from"))).to_be_visible()

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "investigation_timeline.png"))
    suspects = page.get_by_role("tabpanel", name=re.compile(r"^Suggested \(\d+\)"))
    expect(suspects.get_by_text("1. Deploy 41 of checkout")).to_be_visible()
    page.locator(f".st-key-suspect_accept_{deploy_id} button").click()
    expect(page.get_by_text("Accepted into the investigation.")).to_be_visible(timeout=15_000)

    _choose(page, "Move to", "resolved")
    page.get_by_label("Root cause (needed to resolve)").fill("Deploy 41 dropped the cart index")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_text("Root cause: Deploy 41 dropped the cart index")).to_be_visible(
        timeout=15_000
    )
    page.screenshot(path=str(ARTIFACTS / "investigation_resolved.png"))
    page.close()

    done = investigations.get(actor=reviewer, investigation_id=inv_id)
    assert done.status is InvestigationStatus.RESOLVED
    (link,) = correlation.links(actor=reviewer, investigation_id=inv_id)
    assert link.event.title == "Deploy 41 of checkout" and link.status is LinkStatus.ACCEPTED
