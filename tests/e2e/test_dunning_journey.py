"""An admin gives dunning notices an 8-hour SLA on the Policies page; finance drafts a dunning
notice from an invoice on the Work page (the console's own worker runs the agent against a
scripted model on loopback); a reviewer, another person, approves it, due 8 hours after it came."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from domain.enums import ReviewKind, ReviewStatus, Role, RunTrigger
from domain.models import AgentRun, ReviewItem
from services import db, migrate
from services.tenants import TenantWithUsers, create_tenant_with_users
from tests import agent_data
from tests.scripted_llm import ScriptedLLM
from tests.support.console import ARTIFACTS, ROOT, free_port, wait_healthy

pytestmark = pytest.mark.e2e
DUNNING = {
    "subject": "Payment reminder",
    "body": "Dear Acme, invoice INV-2026-0042 for EUR 1234.50 was due on 2026-10-01. Please pay.",
    "stated_amount": "1234.50",
    "stated_due_date": "2026-10-01",
    "confidence": 0.9,
}


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TenantWithUsers]]:
    """A console with its embedded worker over a SQLite file holding one overdue invoice."""
    workdir = tmp_path_factory.mktemp("dunning-console")
    url = f"sqlite:///{workdir / 'revo.db'}"
    migrate.upgrade(url)
    db.configure(url)
    acme = create_tenant_with_users(slug="acme", name="Acme Robotics", email_domain="acme.test")
    agent_data.overdue_invoice(acme.tenant.id)
    llm = ScriptedLLM(answers={"DunningDraft": json.dumps(DUNNING)})
    port = free_port()
    log = workdir / "console.log"
    env = {
        **os.environ,
        "REVO_AUTH_MODE": "demo",
        "REVO_DATABASE_URL": url,
        "REVO_EMBEDDED_WORKER": "true",
        "REVO_WORKER_POLL_S": "0.2",
        "REVO_LLM_BASE_URL": llm.url,
        "REVO_LLM_TIMEOUT_S": "10",
        "REVO_LLM_MAX_REASKS": "0",
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
        yield f"http://127.0.0.1:{port}", acme
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        llm.close()
        db.configure(url)


def _sign_in(browser: Any, console: str, email: str) -> Any:
    page = browser.new_context(viewport={"width": 1500, "height": 1000}).new_page()
    page.goto(console)
    page.get_by_role("combobox").click()
    page.get_by_role("option", name=re.compile(rf"Acme Robotics .*{re.escape(email)}")).click()
    page.get_by_role("button", name="Sign in").click()
    return page


def test_an_admin_edits_a_policy_finance_drafts_a_dunning_notice_and_a_reviewer_approves_it(
    console: tuple[str, TenantWithUsers], browser: Any
) -> None:
    url, acme = console
    admin = _sign_in(browser, url, "admin@acme.test")
    admin.get_by_role("link", name="Policies").click()
    expect(admin.get_by_role("heading", name="Review policies")).to_be_visible(timeout=30_000)
    admin.get_by_label("Kind").click()
    admin.get_by_role("option", name="Dunning notice").click()
    # Picking the kind reruns the page; during the rerun the old form's inputs stand beside the
    # new ones. Let the rerun start, then wait until only the new form is left.
    admin.wait_for_timeout(1_500)
    sla = admin.get_by_label("SLA (hours)")
    expect(sla).to_have_count(1, timeout=30_000)
    sla.fill("8")
    admin.get_by_role("button", name="Save policy").click()
    expect(admin.get_by_text(re.compile(r"^Policy saved\."))).to_be_visible(timeout=30_000)
    admin.close()

    finance = _sign_in(browser, url, "finance@acme.test")
    finance.get_by_role("link", name="Work").click()
    expect(finance.get_by_role("heading", name="Work")).to_be_visible(timeout=30_000)
    finance.get_by_role("tab", name="Invoices").click()
    finance.get_by_role("button", name="Dunning notice").click()
    expect(finance.get_by_text(re.compile(r"Run #\d+ · finance on invoice"))).to_be_visible(
        timeout=15_000
    )
    open_review = finance.get_by_role("button", name=re.compile(r"Open review #\d+"))
    expect(open_review).to_be_visible(timeout=60_000)  # the embedded worker drafted it
    item_id = int(re.findall(r"\d+", open_review.inner_text())[0])
    open_review.click()
    expect(finance.get_by_role("heading", name="Review queue")).to_be_visible(timeout=30_000)
    expect(finance.get_by_text("Payment reminder").first).to_be_visible(timeout=15_000)
    finance.close()

    reviewer = _sign_in(browser, url, "reviewer@acme.test")
    reviewer.get_by_role("link", name="Review queue").click()
    expect(reviewer.get_by_role("heading", name="Review queue")).to_be_visible(timeout=30_000)
    reviewer.get_by_label("Open item").click()
    reviewer.get_by_role("option", name=f"#{item_id}").click()
    expect(reviewer.get_by_text("Payment reminder").first).to_be_visible(timeout=15_000)
    reviewer.get_by_role("button", name=re.compile(r"^Approve(?! selected)")).click()  # + shortcut
    expect(reviewer.get_by_text(re.compile(rf"#{item_id} approved"))).to_be_visible(timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    reviewer.screenshot(path=str(ARTIFACTS / "dunning_journey.png"), full_page=True)
    reviewer.close()

    with db.session_factory()() as session:
        item = session.get(ReviewItem, item_id)
        run = session.scalars(select(AgentRun)).one()
    assert item is not None and item.kind is ReviewKind.DUNNING_NOTICE
    assert item.status in (ReviewStatus.APPROVED, ReviewStatus.EXECUTED)
    assert item.triggered_by_id == acme.users[Role.FINANCE].id == run.triggered_by_id
    assert item.decided_by_id == acme.users[Role.REVIEWER].id
    assert run.trigger is RunTrigger.MANUAL
    assert item.due_at - item.created_at == timedelta(hours=8)  # the admin's new SLA
