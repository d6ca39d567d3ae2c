"""A reviewer opens the queue in a real browser, edits a draft, approves it, sees it leave."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from domain.enums import ReviewKind, ReviewStatus, Role
from services import db, migrate, review
from services.tenants import create_tenant_with_users
from tests.e2e.conftest import ARTIFACTS, ROOT, _free_port, _wait_healthy
from tests.integration import review_support as rs

pytestmark = pytest.mark.e2e


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
    port = _free_port()
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
        _wait_healthy(console, proc, log, timeout=90)
        yield console, item.id
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        db.configure(url)


def test_reviewer_edits_and_approves_a_draft_and_sees_it_leave_the_pending_list(
    queue_console: tuple[str, int], browser: Any
) -> None:
    console, item_id = queue_console
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(console)
    page.get_by_role("combobox").click()
    page.get_by_role("option", name=re.compile(r"Acme Robotics .*reviewer@acme\.test")).click()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("2 items match")).to_be_visible()

    page.get_by_label("Open item").click()
    page.get_by_role("option", name=f"#{item_id}").click()
    expect(page.get_by_text("Shall we talk?").first).to_be_visible(timeout=15_000)
    page.get_by_text("Edit and approve").click()
    body = page.get_by_label("Body")
    body.fill("Hello Jane,\nTen minutes on Friday?")
    page.get_by_role("button", name="Save edits and approve").click()

    expect(page.get_by_text(f"Item #{item_id} approved and carried out.")).to_be_visible(
        timeout=30_000
    )
    expect(page.get_by_text("1 items match")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review_queue.png"), full_page=True)
    page.close()
    done = review.get_item(actor=_reviewer(), item_id=item_id).item
    assert done.status is ReviewStatus.EXECUTED
    assert done.edited_payload and "Friday" in done.edited_payload["body"]


def _reviewer() -> Any:
    from sqlalchemy import select

    from domain.models import User
    from services.actor import Actor
    from services.uow import UnitOfWork

    with UnitOfWork(None, readonly=True) as uow:
        user = uow.session.scalar(select(User).where(User.role == Role.REVIEWER))
        assert user is not None
        return Actor(user_id=user.id, tenant_id=user.tenant_id, role=user.role)
