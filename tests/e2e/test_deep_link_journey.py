"""A link to a review item survives the sign-in and a reload, and each card reads like its
document (screenshots of the proposal, counter-offer, contract and hypothesis cards)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from domain.enums import NegotiationParty, ReviewKind
from domain.models import Contract, NegotiationRound, Tenant
from services import db, migrate
from services.tenants import create_tenant_with_users
from services.uow import UnitOfWork
from tests.integration import review_support as rs
from tests.support.console import ROOT, free_port, wait_healthy

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("REVO_CARD_SHOTS", "/tmp"))


@pytest.fixture(scope="module")
def cards_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    """A console over a SQLite file holding one draft of each document kind."""
    workdir = tmp_path_factory.mktemp("cards-console")
    url = f"sqlite:///{workdir / 'revo.db'}"
    migrate.upgrade(url)
    db.configure(url)
    acme = create_tenant_with_users(slug="acme", name="Acme Robotics", email_domain="acme.test")
    t = acme.tenant.id
    with UnitOfWork(None) as uow:
        uow.session.execute(
            update(Tenant).where(Tenant.id == t).values(settings={"timezone": "Europe/Berlin"})
        )
        uow.commit()
    deal = rs.deal(t, amount="40000.00")
    inv = rs.investigation(t)
    for no, party, amount, pct, terms in [
        (1, NegotiationParty.US, "38761.00", "3.1", "Net 30, annual billing."),
        (2, NegotiationParty.CUSTOMER, "34000.00", "15", "Net 60 and no price uplift."),
    ]:
        rs.add(
            NegotiationRound(
                tenant_id=t,
                deal_id=deal,
                round_no=no,
                party=party,
                amount=Decimal(amount),
                discount_pct=Decimal(pct),
                terms=terms,
            )
        )
    ids = {
        "proposal": rs.draft(t, ReviewKind.DEAL_PROPOSAL, deal, payload={
            "list_price": "40000.00", "price": 38761.0, "currency": "EUR", "discount_pct": "3.1",
            "terms_summary": "Net 30, annual billing, 24-month term."}).id,
        "counter": rs.draft(t, ReviewKind.COUNTER_OFFER, deal, payload={
            "round_no": 2, "amount": "36500.00", "currency": "EUR", "discount_pct": "8.75",
            "message": "We can meet you at 36,500 if you sign this quarter."}).id,
        "contract": rs.draft(t, ReviewKind.CONTRACT, rs.add(Contract(
            tenant_id=t, number="C-2027-014", value=Decimal("912500.00"), currency="EUR")),
            payload={"summary": "Two-year agreement, net 30, auto-renewing."}).id,
        "hypothesis": rs.draft(t, ReviewKind.RCA_HYPOTHESIS, inv, payload={
            "title": "Rate limiter commit throttles partner calls", "rank": 1,
            "explanation": "The deploy 12 min before onset shipped a 10 rps limit.",
            "event_ids": [3, 5], "summary": "One change fits the onset."}).id,
    }  # fmt: skip
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
        yield console, ids
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        db.configure(url)


def _settled(page: Any) -> None:
    """The whole pane drawn (its last part is the history) and no script run under way."""
    expect(page.get_by_text(re.compile(r"^Item history"))).to_be_visible(timeout=15_000)
    expect(page.get_by_role("button", name="Reject Shortcut X")).to_be_visible()
    page.wait_for_function("!document.querySelector('[data-testid=stStatusWidget]')")


def _sign_in_as_admin(page: Any) -> None:
    expect(page.get_by_role("heading", name="Sign in to Revo Console")).to_be_visible(
        timeout=30_000
    )
    page.get_by_role("combobox").click()
    page.get_by_role("option", name=re.compile(r"Acme Robotics .*admin@acme\.test")).click()
    page.get_by_role("button", name="Sign in").click()


def test_a_link_opens_its_item_after_sign_in_and_reload_and_cards_read_like_documents(
    cards_console: tuple[str, dict[str, int]], browser: Any
) -> None:
    console, ids = cards_console
    page = browser.new_page(viewport={"width": 1500, "height": 1400})
    link = f"{console}/review_queue?item={ids['counter']}"
    for _ in range(2):  # the link, then a reload: both sign in and land on the same item
        page.goto(link)
        _sign_in_as_admin(page)
        expect(
            page.get_by_role("heading", name=f"#{ids['counter']} · counter offer")
        ).to_be_visible(timeout=30_000)
        assert page.url.endswith(f"/review_queue?item={ids['counter']}")
        expect(page.get_by_text("Page not found")).to_have_count(0)

    expect(page.get_by_text("36,500.00 EUR").first).to_be_visible()
    _settled(page)
    page.screenshot(path=str(SHOTS / "day_card_counter_offer.png"), full_page=True)
    for name, heading in [
        ("proposal", "deal proposal"), ("contract", "contract"), ("hypothesis", "rca hypothesis")
    ]:  # fmt: skip
        page.goto(f"{console}/review_queue?item={ids[name]}")  # a typed URL
        _sign_in_as_admin(page)
        expect(page.get_by_role("heading", name=f"#{ids[name]} · {heading}")).to_be_visible(
            timeout=15_000
        )
        assert page.url.endswith(f"?item={ids[name]}")
        _settled(page)
        page.screenshot(path=str(SHOTS / f"day_card_{name}.png"), full_page=True)
    link = page.get_by_role("link", name="event #3")
    expect(link).to_have_attribute(
        "href", re.compile(r"/investigations\?investigation=\d+&event=3$")
    )
    page.close()
