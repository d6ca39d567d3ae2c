"""A reviewer opens the queue in a real browser, edits a draft, approves it, sees it leave."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from domain.enums import ReviewStatus, Role
from services import review
from tests.support.console import ARTIFACTS

pytestmark = pytest.mark.e2e


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
