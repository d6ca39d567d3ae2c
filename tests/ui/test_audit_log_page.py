"""The audit log page over real services: who reaches it, filters, diffs, export, the chain."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from domain.enums import ReviewKind, Role
from services import audit, audit_anchors, audit_guards, db
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration import review_support as rs
from tests.support import apptest as ui

Pair = tuple[TenantWithUsers, TenantWithUsers]
PAGE = "pages/audit_log.py"


def _record(pair: TenantWithUsers, **kwargs: object) -> None:
    with UnitOfWork(pair.actor(Role.ADMIN)) as uow:
        audit.record(uow, **kwargs)  # type: ignore[arg-type]
        uow.commit()


def _open(app: AppTest, user_id: int) -> AppTest:
    ui.sign_in(app, user_id)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def _labels(app: AppTest) -> list[str]:
    return [ui.text(e.label) for e in app.expander]


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_a_viewer_reads_diffs_filters_by_text_and_sees_the_chain_verified(
    app: AppTest, two_tenants: Pair
) -> None:
    north, south = two_tenants
    _record(
        north,
        action="deal.updated",
        entity_type="deal",
        entity_id=7,
        before={"stage": "proposal"},
        after={"stage": "negotiation"},
        reason="counter",
    )
    _record(north, action="lead.updated", entity_type="lead", entity_id=3, after={"x": 1})
    _record(south, action="deal.updated", entity_type="deal", entity_id=99)
    _open(app, north.users[Role.VIEWER].id)

    assert app.title[0].value == "Audit log"
    assert "verified up to entry 3 at" in ui.text(app.success[0].value)
    labels = _labels(app)
    assert len(labels) == 3 and "deal.updated · deal 7" in labels[1]
    assert not any("deal 99" in label for label in labels)  # the other tenant's entry
    diff = app.dataframe[1].value
    assert list(diff["field"]) == ["stage"]
    assert (diff["before"][0], diff["after"][0]) == ("proposal", "negotiation")

    next(t for t in app.text_input if t.label == "Text").input("negotiation").run()
    assert not app.exception, app.exception
    assert len(_labels(app)) == 1 and "1 matching entries" in app.caption[0].value

    next(b for b in app.button if b.label == "Prepare CSV export").click().run()
    assert not app.exception, app.exception
    assert "negotiation" in app.session_state["audit_csv"]


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_an_entity_link_opens_its_trail_and_a_bad_id_is_a_clear_message(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    for i in (1, 2):
        _record(north, action="review.approved", entity_type="review_item", entity_id=i)
    ui.sign_in(app, north.users[Role.ADMIN].id)
    app.query_params["entity"] = "review_item"
    app.query_params["entity_id"] = "2"
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    labels = _labels(app)
    assert len(labels) == 1 and "review_item 2" in labels[0]

    next(t for t in app.text_input if t.label == "Entity id").input("12abc").run()
    assert not app.exception, app.exception
    assert "Audit filter entity_id" in ui.text(app.error[0].value)


@pytest.mark.usefixtures("demo_auth", "loopback")
@pytest.mark.parametrize("role", [Role.REVIEWER, Role.FINANCE])
def test_people_who_work_the_queue_do_not_reach_the_audit_log(
    app: AppTest, two_tenants: Pair, role: Role
) -> None:
    ui.sign_in(app, two_tenants[0].users[role].id)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(PAGE)


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_a_tampered_entry_shows_the_chain_broken(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    _record(north, action="deal.updated", entity_type="deal", entity_id=7, after={"a": 1})
    with db.current_engine().begin() as conn:
        audit_guards.remove(conn)
        conn.execute(text("UPDATE audit_entries SET actor_label = 'Nobody' WHERE seq = 2"))
        audit_guards.install(conn)
    _open(app, north.users[Role.ADMIN].id)
    shown = ui.text(app.error[0].value)
    assert "broken at entry 2" in shown and "Verified up to entry 1" in shown


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_a_review_items_history_links_to_its_audit_trail(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, ReviewKind.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    ui.open_queue(app, north.users[Role.ADMIN].id)
    ui.open_item(app, item.id)
    (link,) = app.get("page_link")
    assert link.proto.label == "Full audit trail"
    assert link.proto.page == "audit_log"
    assert link.proto.query_string == f"entity=review_item&entity_id={item.id}"


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_the_page_verifies_from_the_checkpoint_and_an_admin_may_verify_everything(
    app: AppTest, two_tenants: Pair, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.config import get_settings

    if db_url.startswith("postgresql"):
        monkeypatch.setenv("REVO_AUDIT_KEY", "k" * 40)
        get_settings.cache_clear()
    north, _ = two_tenants
    _record(north, action="deal.updated", entity_type="deal", entity_id=7)
    audit_anchors.anchor(tenant_slug="north")
    _record(north, action="deal.updated", entity_type="deal", entity_id=8)
    _open(app, north.users[Role.ADMIN].id)
    shown = ui.text(app.success[0].value)
    assert "verified up to entry 3" in shown and "from the checkpoint at entry 2" in shown
    next(b for b in app.button if b.label == "Verify everything").click().run()
    assert not app.exception, app.exception
    assert "verified up to entry 3" in ui.text(app.success[0].value)
    assert "from genesis" in ui.text(app.success[0].value)

    viewer = AppTest.from_file(ui.APP, default_timeout=30)
    _open(viewer, north.users[Role.VIEWER].id)
    assert "from the checkpoint at entry 2" in ui.text(viewer.success[0].value)
    assert not any(b.label == "Verify everything" for b in viewer.button)


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_an_unkeyed_chain_says_so_on_the_page(app: AppTest, two_tenants: Pair, db_url: str) -> None:
    _open(app, two_tenants[0].users[Role.ADMIN].id)
    notices = [ui.text(w.value) for w in app.warning]
    if db_url.startswith("postgresql"):
        assert "chain not keyed: set REVO_AUDIT_KEY" in notices
    else:
        assert notices == []  # SQLite keyed itself
