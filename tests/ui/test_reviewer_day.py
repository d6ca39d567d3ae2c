"""The reviewer's day on the review queue: a pane that follows the filter, links that open the
same item, claims you can see, cards that read like the document, shortcuts, local times."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update
from streamlit.proto.Block_pb2 import Block
from streamlit.testing.v1 import AppTest

from domain.enums import NegotiationParty, ReviewKind, Role
from domain.models import NegotiationRound, Tenant
from services import review
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration import review_support as rs
from tests.support import apptest as ui
from tests.support import scenarios

Pair = tuple[TenantWithUsers, TenantWithUsers]
PAGE = "pages/review_queue.py"
pytestmark = pytest.mark.usefixtures("demo_auth", "loopback")


def _labels(app: AppTest) -> list[str]:
    return [b.label for b in app.button]


def _captions(app: AppTest) -> str:
    return "\n".join(ui.text(c.value) for c in app.caption)


def _blocks(node: Any) -> list[Any]:
    found = []
    for child in getattr(node, "children", {}).values():
        found.append(child)
        found += _blocks(child)
    return found


def _time_zone(tenant_id: int, zone: str) -> None:
    with UnitOfWork(None) as uow:
        uow.session.execute(
            update(Tenant).where(Tenant.id == tenant_id).values(settings={"timezone": zone})
        )
        uow.commit()


def test_the_pane_follows_the_filter_and_a_filter_with_no_match_leaves_nothing_to_approve(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, ReviewKind.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    ui.open_queue(app, north.users[Role.REVIEWER].id)
    ui.open_item(app, item.id)
    assert "Approve" in _labels(app) and app.query_params["item"] == str(item.id)

    next(t for t in app.text_input if t.label == "Search subject and draft").set_value(
        "nothing like this"
    ).run()
    assert not app.exception, app.exception
    assert "0 items match" in _captions(app)
    assert "Approve" not in _labels(app) and not app.subheader
    assert "item" not in app.query_params


def test_an_item_link_opens_that_item_after_sign_in_and_follows_the_open_item(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    urgent = rs.draft(t, ReviewKind.OUTREACH_EMAIL, rs.lead(t))
    linked = rs.draft(t, ReviewKind.DUNNING_NOTICE, rs.invoice(t))
    app.query_params["item"] = str(linked.id)  # the URL the notification linked to
    ui.sign_in(app, north.users[Role.ADMIN].id)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    assert [s.value for s in app.subheader] == [f"#{linked.id} · dunning notice"]

    ui.open_item(app, urgent.id)
    assert app.query_params["item"] == str(urgent.id)  # a reload opens what is open now


def test_a_claim_shows_its_holder_and_expiry_can_be_renewed_and_next_item_says_what_it_released(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    first = rs.draft(t, ReviewKind.OUTREACH_EMAIL, rs.lead(t))
    rs.draft(t, ReviewKind.OUTREACH_EMAIL, rs.lead(t, email="joe@example.test"))
    ui.open_queue(app, north.users[Role.REVIEWER].id)
    ui.open_item(app, first.id)
    assert "Not claimed" in _captions(app)
    ui.button(app, "Claim").click().run()  # type: ignore[attr-defined]
    assert "until" in ui.text(app.success[0].value)
    assert "Claimed by you until" in _captions(app) and "(in 1" in _captions(app)
    assert {m.label: m.value for m in app.metric}["Claimed by me"] == "1"
    assert "releases the 1 other item(s) you hold" in _captions(app)

    ui.button(app, "Renew claim").click().run()  # type: ignore[attr-defined]
    assert not app.exception and "until" in ui.text(app.success[0].value)

    ui.button(app, "Next item").click().run()  # type: ignore[attr-defined]
    assert not app.exception, app.exception
    flash = ui.text(app.success[0].value)
    assert f"Released your claim on #{first.id}" in flash
    assert {m.label: m.value for m in app.metric}["Claimed by me"] == "1"  # current after it


def test_a_proposal_reads_like_one_with_money_discount_cap_and_typed_edits(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    payload = {"list_price": "40000.00", "price": 38761.0, "currency": "EUR",
               "discount_pct": "3.1", "terms_summary": "Net 30, **annual** billing"}  # fmt: skip
    item = rs.draft(t, ReviewKind.DEAL_PROPOSAL, rs.deal(t, amount="40000.00"), payload=payload)
    ui.open_queue(app, north.users[Role.SALES].id)
    ui.open_item(app, item.id)
    assert {m.label: m.value for m in app.metric}["Offered price"] == "38,761.00 EUR"
    shown = _captions(app)
    assert "list price 40,000.00 EUR" in shown and "3.1 % below list" in shown
    assert "discount 3.1 % of a 20 % cap" in shown
    assert "Net 30, **annual** billing" in [x.value for x in app.text]  # literal, not bold
    ui.edit(app)
    numbers = {n.label: n.value for n in app.number_input}
    assert numbers["Price"] == 38761.0 and numbers["Discount pct (%)"] == 3.1


def test_a_counter_offer_shows_the_negotiation_as_a_thread(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    deal = rs.deal(t)
    for no, party, amount, pct, terms in [
        (1, NegotiationParty.US, "9500.00", "5", "Net 30"),
        (2, NegotiationParty.CUSTOMER, "8200.00", "18", "Net 60, <b>no</b> uplift"),
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
    item = rs.draft(t, ReviewKind.COUNTER_OFFER, deal)
    ui.open_queue(app, north.users[Role.SALES].id)
    ui.open_item(app, item.id)
    assert {m.label: m.value for m in app.metric}["Offered price"] == "9,000.00 EUR"
    shown = _captions(app)
    assert "discount 10 % of a 20 % cap" in shown
    assert "Round 1 · us · 9,500.00 EUR" in shown and "Round 2 · customer · 8,200.00 EUR" in shown
    texts = [x.value for x in app.text]
    assert "Net 45" in texts and "Net 60, <b>no</b> uplift" in texts


def test_a_hypothesis_links_its_cited_events_into_the_timeline(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    t = north.tenant.id
    inv = rs.investigation(t)
    payload = {"title": "Rate limiter commit", "explanation": "Throttles partner calls",
               "rank": 1, "event_ids": [7, 9], "summary": "One change fits"}  # fmt: skip
    item = rs.draft(t, ReviewKind.RCA_HYPOTHESIS, inv, payload=payload)
    ui.open_queue(app, north.users[Role.ADMIN].id)
    ui.open_item(app, item.id)
    links = next(m.value for m in app.markdown if "Cited events" in m.value)
    assert f"(/investigations?investigation={inv}&event=7)" in links
    assert f"(/investigations?investigation={inv}&event=9)" in links
    assert "Rate limiter commit" in [x.value for x in app.text]


def test_shortcuts_are_listed_and_enter_in_a_comment_never_submits(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, ReviewKind.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    ui.open_queue(app, north.users[Role.REVIEWER].id)
    ui.open_item(app, item.id)
    keys = {b.label: b.proto.shortcut for b in app.button}
    assert keys["Approve"] == "a" or keys["Approve"].lower() == "a"
    assert {keys["Reject"].lower(), keys["Edit and approve"].lower()} == {"x", "e"}
    assert keys["Next item"].lower() == "n" and keys["Claim"].lower() == "k"
    blocks = [b.proto for b in _blocks(app._tree) if isinstance(getattr(b, "proto", None), Block)]
    forms = [p.form for p in blocks if p.WhichOneof("type") == "form"]
    assert {f.form_id for f in forms} >= {"approve_form", "reject_form"}
    assert not any(f.enter_to_submit for f in forms)
    popovers = [p.popover for p in blocks if p.WhichOneof("type") == "popover"]
    assert [p.label for p in popovers] == ["Keyboard shortcuts"]
    assert "N  —  Next item: claim the most urgent one" in [t.value for t in app.text]


def test_times_are_in_the_tenants_zone_with_utc_on_hover(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    _time_zone(north.tenant.id, "Asia/Kolkata")
    item = rs.draft(north.tenant.id, ReviewKind.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    ui.open_queue(app, north.users[Role.REVIEWER].id)
    ui.open_item(app, item.id)
    due = next(c for c in app.caption if "due " in c.value and "priority" in c.value)
    assert "IST" in due.value and "(in " in due.value
    assert "UTC" in due.proto.help
    assert "times in Asia/Kolkata" in _captions(app)
    detail = review.get_item(actor=north.actor(Role.ADMIN), item_id=item.id)
    assert detail.context.time_zone == "Asia/Kolkata"


def test_a_damaged_time_zone_falls_back_to_utc(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    _time_zone(north.tenant.id, "../../etc/passwd")
    rs.draft(north.tenant.id, ReviewKind.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    ui.open_queue(app, north.users[Role.REVIEWER].id)
    assert "times in UTC" in _captions(app)


def test_an_investigation_link_with_a_cited_event_opens_after_sign_in_showing_that_event(
    app: AppTest, two_tenants: Pair
) -> None:
    inv_id, ids = scenarios.incident(two_tenants)
    app.query_params["investigation"] = str(inv_id)
    app.query_params["event"] = str(ids["deploy"])  # the link a hypothesis card gives
    ui.sign_in(app, two_tenants[0].users[Role.VIEWER].id)
    app.switch_page("pages/investigations.py").run()
    assert not app.exception, app.exception
    payload = next(n for n in app.number_input if n.label.startswith("Show the full payload"))
    assert payload.value == ids["deploy"]
    assert any("Deploy 41 of checkout" in ui.text(m.value) for m in app.markdown)
