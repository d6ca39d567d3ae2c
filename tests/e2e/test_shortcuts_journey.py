"""Keyboard shortcuts in a real browser: letters typed into the comment field (A, X, E, N, K
among them) and Enter never decide; with no field focused, A approves."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_typing_never_decides_and_a_approves_with_no_field_focused(
    queue_console: tuple[str, int],
    browser: Any,
) -> None:
    console, item_id = queue_console
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(console)
    page.get_by_role("combobox").click()
    page.get_by_role("option", name=re.compile(r"Acme Robotics .*reviewer@acme\.test")).click()
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible(timeout=30_000)
    page.get_by_label("Open item").click()
    page.get_by_role("option", name=f"#{item_id}").click()
    expect(page.get_by_text("Shall we talk?").first).to_be_visible(timeout=15_000)

    comment = page.get_by_label("Comment (optional)").first
    comment.click()
    typed = "a nice draft, x and e and n and k"
    comment.press_sequentially(typed, delay=20)
    comment.press("Enter")
    page.wait_for_timeout(2_000)  # time for a decision to show, were one taken
    expect(comment).to_have_value(typed)
    expect(page.get_by_text(re.compile(rf"Item #{item_id} (approved|rejected)"))).to_have_count(0)

    page.get_by_role("heading", name="Review queue").click()  # no field has the focus
    page.keyboard.press("a")
    expect(page.get_by_text(f"Item #{item_id} approved and carried out.")).to_be_visible(
        timeout=30_000
    )
    page.close()
