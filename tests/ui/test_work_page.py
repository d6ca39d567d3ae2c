"""Runs started from the console: the Work page's buttons per role, a run's progress up to its
review item, and the investigation's "Draft root cause" (its hypothesis shows as pending)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from domain.enums import AgentName, Role, RunStatus, RunTrigger
from domain.models import AgentRun, ReviewItem
from pages.components.review_actions import CURRENT
from services import db, review, worker
from services.errors import PolicyRefused
from services.tenants import TenantWithUsers
from tests import agent_data
from tests.scripted_llm import ScriptedLLM, configured
from tests.support import apptest as ui

WORK = "pages/work.py"
Pair = tuple[TenantWithUsers, TenantWithUsers]
DUNNING = {
    "subject": "Payment reminder",
    "body": "Dear Acme, invoice INV-2026-0042 for EUR 1234.50 was due on 2026-10-01. Please pay.",
    "stated_amount": "1234.50",
    "stated_due_date": "2026-10-01",
    "confidence": 0.9,
}


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch, demo_auth: None) -> Iterator[ScriptedLLM]:
    server = ScriptedLLM()
    with configured(monkeypatch, server, REVO_AUTH_MODE="demo"):
        yield server
    server.close()


def _labels(app: AppTest) -> set[str]:
    return {b.label for b in app.button}


def _runs() -> list[AgentRun]:
    with db.session_factory()() as session:
        return list(session.scalars(select(AgentRun).order_by(AgentRun.id)))


@pytest.mark.usefixtures("loopback")
def test_finance_drafts_a_dunning_notice_and_follows_it_to_the_review_item(
    app: AppTest, two_tenants: Pair, llm: ScriptedLLM
) -> None:
    north, south = two_tenants
    llm.answers["DunningDraft"] = json.dumps(DUNNING)
    invoice_id = agent_data.overdue_invoice(north.tenant.id)
    agent_data.lead(south.tenant.id, email="other@south.test")  # another tenant's: never shown
    finance = north.users[Role.FINANCE]
    ui.open_page(app, finance.id, WORK)
    assert "Dunning notice" in _labels(app)
    assert not {"Draft outreach", "Draft proposal", "Counter-offer"} & _labels(app)
    assert [t.value for t in app.info] == ["No leads yet.", "No deals yet."]

    app.button(key=f"run_finance_invoice_{invoice_id}").click().run()
    assert not app.exception, app.exception
    [run] = _runs()
    assert (run.agent, run.trigger, run.triggered_by_id) == (
        AgentName.FINANCE,
        RunTrigger.MANUAL,
        finance.id,
    )
    shown = " ".join(m.value for m in app.markdown)
    assert f"Run #{run.id}" in shown and "queued" in shown

    assert worker.run_worker(worker_id="ui-test", once=True) == 1  # one worker step, in-process
    app.run()
    assert "succeeded" in " ".join(m.value for m in app.markdown)
    with db.session_factory()() as session:
        item = session.scalars(select(ReviewItem)).one()
    assert (item.run_id, item.triggered_by_id) == (run.id, finance.id)
    with pytest.raises(PolicyRefused, match="someone else must approve"):  # no self-approval
        review.approve(
            actor=north.actor(Role.FINANCE), item_id=item.id, seen_version=item.row_version
        )
    app.button(key=f"open_{item.id}").click().run()
    assert not app.exception, app.exception
    assert app.session_state[CURRENT] == item.id


@pytest.mark.usefixtures("loopback")
def test_each_role_sees_only_the_buttons_for_its_own_agents(
    app: AppTest, two_tenants: Pair, llm: ScriptedLLM
) -> None:
    north, _ = two_tenants
    agent_data.lead(north.tenant.id)
    agent_data.deal(north.tenant.id)
    agent_data.overdue_invoice(north.tenant.id)
    expected = {
        Role.SDR: {"Draft outreach"},
        Role.SALES: {"Draft proposal", "Counter-offer"},
        Role.ADMIN: {"Draft outreach", "Draft proposal", "Counter-offer", "Dunning notice"},
        Role.REVIEWER: set(),
    }
    every = {"Draft outreach", "Draft proposal", "Counter-offer", "Dunning notice"}
    for role, buttons in expected.items():
        fresh = AppTest.from_file(app._script_path, default_timeout=30)
        ui.open_page(fresh, north.users[role].id, WORK)
        assert _labels(fresh) & every == buttons, role
        read_only = any("read-only" in i.value for i in fresh.info)
        assert read_only is (not buttons), role
    assert _runs() == []


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_a_viewer_has_no_work_page_and_cannot_reach_it(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    agent_data.lead(north.tenant.id)
    app.run()
    app.selectbox[0].set_value(north.users[Role.VIEWER].id)
    app.button[0].click().run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/work.py")  # not in a viewer's navigation, so not reachable


@pytest.mark.usefixtures("loopback")
def test_draft_root_cause_on_an_investigation_shows_the_hypothesis_pending_review(
    app: AppTest, two_tenants: Pair, llm: ScriptedLLM
) -> None:
    north, _ = two_tenants
    inv_id, events = agent_data.investigation_with_events(north.tenant.id)
    hypothesis = {"title": "Database saturation", "explanation": "Pool exhausted under load.",
                  "confidence": 0.8, "event_ids": [events[0]]}  # fmt: skip
    llm.answers["RcaDraft"] = json.dumps(
        {"summary": "Checkout failed.", "hypotheses": [hypothesis]}
    )
    app.query_params["investigation"] = str(inv_id)
    ui.open_page(app, north.users[Role.REVIEWER].id, "pages/investigations.py")
    app.button(key=f"run_investigator_investigation_{inv_id}").click().run()
    assert not app.exception, app.exception
    worker.run_worker(worker_id="ui-test", once=True)
    app.run()
    [run] = _runs()
    assert (
        run.status is RunStatus.SUCCEEDED and run.triggered_by_id == north.users[Role.REVIEWER].id
    )
    pending = [w.value for w in app.warning if "Hypothesis" in w.value]
    assert len(pending) == 1 and "pending review" in pending[0]
