"""A person opens the console in a real browser, signs in as a demo user, sees the home page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.console import ARTIFACTS

pytestmark = pytest.mark.e2e


def test_reviewer_signs_in_with_demo_sign_in_and_lands_on_the_home_page(
    console_url: str, browser: Any
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(console_url)
    expect(page.get_by_role("heading", name="Sign in to Revo Console")).to_be_visible(
        timeout=30_000
    )

    page.get_by_role("combobox").click()
    page.get_by_role("option", name=re.compile(r"Acme Robotics .*reviewer@acme\.test")).click()
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Revo Console")).to_be_visible(timeout=30_000)
    expect(
        page.get_by_text(re.compile(r"Acme Robotics · signed in as .*\(reviewer\)"))
    ).to_be_visible()
    expect(page.get_by_text("Review queue", exact=True).first).to_be_visible()
    expect(page.get_by_test_id("stMetric").first).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    page.close()
