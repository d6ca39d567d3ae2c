"""The API docs open in a real browser under the console's CSP, with nothing from another host."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_api_docs_render_the_operations_from_the_consoles_own_origin(
    console_url: str, browser: Any
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    origin = urlsplit(console_url).netloc
    hosts: set[str] = set()
    refused: list[str] = []
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    response = page.goto(f"{console_url}/api/docs")
    assert (
        response is not None and "default-src 'self'" in response.headers["content-security-policy"]
    )
    expect(page.get_by_text("Revo Console API", exact=False).first).to_be_visible(timeout=30_000)
    expect(page.locator(".opblock-summary-path", has_text="/v1/reviews").first).to_be_visible()
    page.locator(".opblock-summary", has_text="/v1/reviews").first.click()
    expect(page.get_by_text("Idempotency-Key").first).to_be_visible()
    assert refused == []
    assert hosts <= {origin, ""}
    page.close()


def test_the_console_answers_readyz_as_the_container_healthcheck_asks(console_url: str) -> None:
    # The Dockerfile's HEALTHCHECK runs exactly this against the same `streamlit run app.py`.
    with urllib.request.urlopen(f"{console_url}/readyz", timeout=4) as answer:
        body = json.loads(answer.read())
    assert body["ready"] is True and body["checks"]["database"]["status"] == "ok"
