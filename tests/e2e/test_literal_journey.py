"""In a real browser, hostile text stays text and the console asks no other host for anything.

An admin signs in to a tenant whose name, drafts, investigation, log events and run errors are
full of markdown images, ``:red[…]`` directives, ``:material/…`` shortcodes, HTML, links, bare
URLs and LaTeX; opens a review item, the investigation with its timeline (and hovers a point)
and the metrics page. Every string reads as written, nothing became a link, an image, a colour
or an icon, and every request of the session went to the console's own origin.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from domain.base import utcnow
from domain.enums import (
    AgentName,
    EventSeverity,
    EventSource,
    ReviewKind,
    Role,
    RunStatus,
    RunTrigger,
)
from domain.models import AgentRun
from services import db, migrate
from services.investigations import service as investigations
from services.investigations.dto import InvestigationCreate, Severity
from services.tenants import create_tenant_with_users
from services.uow import UnitOfWork
from tests.hostile import EVIL_HOST, HOSTILE, normalised
from tests.integration import review_support as rs
from tests.integration.event_factory import add_events, event
from tests.support.console import ARTIFACTS, ROOT, free_port, wait_healthy

pytestmark = pytest.mark.e2e

TENANT = "![logo](http://evil.test/t.png) :red[Acme] :material/warning: <b>x</b> $t$ a\\b"
TITLE = "![p](http://evil.test/p.png?d=1) :red[Fake warning] [login](http://evil.test) $x$ c\\d"
SERVICE = "<b style='font-size:30px;color:red'>svc</b>"
# What must never appear in the page's DOM: each is how Streamlit renders an interpreted string.
INTERPRETED = {
    "image from the attacker": f"img[src*='{EVIL_HOST}']",
    "link to the attacker": f"a[href*='{EVIL_HOST}']",
    "coloured directive": "[data-testid='stMarkdownContainer'] .stMarkdownColoredText",
    "material icon in text": "[data-testid='stMarkdownContainer'] span[role='img']",
    "formula": ".katex",
    "HTML from the data": "[data-testid='stMarkdownContainer'] b, .stMarkdown i",
}


@pytest.fixture(scope="module")
def hostile_console(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, int]]]:
    """A console on a fresh SQLite file holding one tenant full of hostile text."""
    workdir = tmp_path_factory.mktemp("hostile-console")
    url = f"sqlite:///{workdir / 'revo.db'}"
    migrate.upgrade(url)
    db.configure(url)
    tenant = create_tenant_with_users(slug="evil", name=TENANT, email_domain="evil.test")
    t = tenant.tenant.id
    admin = tenant.actor(Role.ADMIN)
    detected = utcnow() - timedelta(hours=1)
    inv = investigations.create(
        actor=admin,
        investigation_in=InvestigationCreate(
            title=TITLE, severity=Severity.HIGH, service=SERVICE, detected_at=detected
        ),
    )
    add_events(
        t,
        [
            event(
                EventSource.LOGS,
                "log_error",
                detected - timedelta(minutes=5 * (i + 1)),
                SERVICE,
                text,
                severity=EventSeverity.HIGH,
            )
            for i, text in enumerate(HOSTILE)
        ],
    )
    investigations.add_note(actor=admin, investigation_id=inv.id, body="\n".join(HOSTILE))
    item = rs.draft(
        t,
        ReviewKind.OUTREACH_EMAIL,
        rs.lead(t),
        label=HOSTILE[0],
        payload={"subject": HOSTILE[1], "body": "\n".join(HOSTILE)},
    )
    with UnitOfWork(None) as uow:
        uow.session.add(
            AgentRun(
                tenant_id=t,
                agent=AgentName.SDR,
                trigger=RunTrigger.MANUAL,
                subject_type="lead",
                subject_id=1,
                idempotency_key="evil-run",
                status=RunStatus.DEAD,
                attempts=3,
                error=" ".join(HOSTILE[:6]),
            )
        )
        uow.commit()
    port = free_port()
    log = workdir / "console.log"
    env = {**os.environ, "REVO_AUTH_MODE": "demo", "REVO_DATABASE_URL": url,
           "REVO_EMBEDDED_WORKER": "false"}  # fmt: skip
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
        yield console, {"investigation": inv.id, "item": item.id}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _page_text(page: Any) -> str:
    """The page's text as a person reads it (zero-width word joiners are invisible)."""
    return normalised(page.inner_text("body").replace("\u2060", ""))


def _assert_literal(page: Any, *strings: str) -> None:
    text = _page_text(page)
    missing = [s for s in strings if normalised(s) not in text]
    assert not missing, f"not shown literally: {missing} in {text[:3000]}"
    for what, selector in INTERPRETED.items():
        assert page.locator(selector).count() == 0, f"{what} on the page ({selector})"


def test_hostile_text_stays_text_and_no_request_leaves_the_console(
    hostile_console: tuple[str, dict[str, int]], browser: Any
) -> None:
    console, ids = hostile_console
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.goto(console)
    page.get_by_role("combobox").click()
    page.get_by_role("option", name=re.compile(r"admin@evil\.test")).click()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Revo Console")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=30_000)
    _assert_literal(page, f"{TENANT} · signed in as Admin {TENANT.split()[0]}")

    page.get_by_role("link", name="Review queue").click()
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("1 items match")).to_be_visible(timeout=30_000)
    page.get_by_label("Open item").click()
    page.get_by_role("option", name=f"#{ids['item']}").click()
    expect(page.get_by_test_id("stCode").first).to_be_visible(timeout=30_000)
    _assert_literal(page, HOSTILE[1], *HOSTILE)  # the subject and every line of the body

    page.get_by_role("link", name="Investigations").click()
    expect(page.get_by_role("heading", name="Investigations")).to_be_visible(timeout=30_000)
    open_button = page.locator(f".st-key-open_{ids['investigation']} button")
    expect(open_button).to_be_visible(timeout=30_000)
    _assert_literal(page, TITLE)
    open_button.click()
    chart = page.get_by_test_id("stPlotlyChart")
    expect(chart).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"^\d+ events from"))).to_be_visible()
    page.get_by_text("Notes", exact=True).scroll_into_view_if_needed()
    expect(page.get_by_text(re.compile(r"^#\d+ Admin"))).to_be_visible(timeout=15_000)
    _assert_literal(page, f"#{ids['investigation']} {TITLE}", *HOSTILE)
    traces = page.evaluate(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".flatMap(p => p.data.map(t => (t.text || []).join('\\n')))"
    )
    hover = "\n".join(traces)
    assert "<" not in hover.replace("<br>", "") and "&lt;b style" in hover  # Plotly HTML
    _hover_a_point(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hostile_investigation.png"), full_page=True)

    page.get_by_role("link", name="Run metrics").click()
    expect(page.get_by_role("heading", name="Run metrics")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"^Error: "))).to_be_visible(timeout=30_000)
    _assert_literal(page, TENANT, "Error: " + " ".join(HOSTILE[:6]))
    page.screenshot(path=str(ARTIFACTS / "hostile_metrics.png"), full_page=True)
    context.close()

    origin = console.rstrip("/")
    outside = [u for u in requested if not re.match(rf"^(?:{re.escape(origin)}/|data:|blob:)", u)]
    assert requested and not outside, f"requests to other hosts: {sorted(set(outside))}"


def _hover_a_point(page: Any) -> None:
    """Sweep the logs lane until Plotly shows a hover label: it must show the markup as text."""
    # The timeline is the chart with a "logs" lane (the page also draws the candidate board).
    chart = page.get_by_test_id("stPlotlyChart").filter(
        has=page.locator(".ytick text", has_text="logs")
    )
    expect(chart).to_have_count(1)
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    lane = chart.locator(".ytick text", has_text="logs").bounding_box()
    assert box is not None and lane is not None
    y = lane["y"] + lane["height"] / 2
    label = chart.locator(".hoverlayer .hovertext")
    # Where the points fall depends on the window the page opens with: sweep the whole lane,
    # a little above and below its middle too.
    for dy in (0, -4, 4, -8, 8):
        for step in range(0, 1000, 4):
            page.mouse.move(box["x"] + box["width"] * step / 1000, y + dy)
            if label.count():
                break
        if label.count():
            break
    assert label.count(), "no hover label on the timeline"
    assert label.locator("a, tspan[style*='bold'], tspan[style*='30px']").count() == 0
    assert SERVICE in (label.first.text_content() or "")
