"""The notification pages over real services: my preferences, channels and alert rules."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import ChannelKind, DigestMode, Role
from services.notify import alerts, channels, prefs
from services.tenants import TenantWithUsers
from tests.support import apptest as ui

Pair = tuple[TenantWithUsers, TenantWithUsers]


@pytest.fixture
def modes(auth_mode: Callable[..., None], loopback: None) -> None:
    auth_mode("demo")


@pytest.mark.usefixtures("modes")
def test_a_reviewer_saves_a_daily_digest_in_their_time_zone(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    ui.open_page(app, north.users[Role.SALES].id, "pages/my_notifications.py")
    app.checkbox(key="review.new").uncheck()
    app.radio[0].set_value(DigestMode.DIGEST)
    app.text_input[1].input("Europe/Berlin")
    app.button(key="FormSubmitter:my_notifications-Save").click().run()
    assert not app.exception, app.exception
    assert app.success and "Saved" in app.success[0].value
    saved = prefs.get_my_prefs(actor=north.actor(Role.SALES))
    assert saved.mode is DigestMode.DIGEST and saved.timezone == "Europe/Berlin"
    assert "review.new" not in saved.events
    app.button[1].click().run()  # send me a test
    assert not app.exception, app.exception
    [test] = prefs.list_my_notifications(actor=north.actor(Role.SALES))
    assert test.event == "notify.test"


@pytest.mark.usefixtures("modes")
def test_a_bad_time_zone_is_a_message_not_a_crash(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    ui.open_page(app, north.users[Role.SALES].id, "pages/my_notifications.py")
    app.text_input[1].input("<script>Nowhere/Land")
    app.button(key="FormSubmitter:my_notifications-Save").click().run()
    assert not app.exception, app.exception
    assert app.error and "time zone" in app.error[0].value


@pytest.mark.usefixtures("modes")
def test_an_admin_adds_a_webhook_endpoint_and_sees_its_secret_once(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    ui.open_page(app, north.users[Role.ADMIN].id, "pages/notify_channels.py")
    app.text_input[0].input("ERP")
    app.selectbox[0].set_value(ChannelKind.WEBHOOK)
    app.text_input[1].input("http://127.0.0.1:9/hook")
    app.multiselect[0].set_value(["review.approved"])
    app.button(key="FormSubmitter:new_channel-Add channel").click().run()
    assert not app.exception, app.exception
    assert app.code and app.code[0].value.startswith("whsec_")
    [ch] = channels.list_channels(actor=north.actor(Role.ADMIN))
    assert ch.events == ["review.approved"]
    app.button(key=f"test_{ch.id}").click().run()
    assert not app.exception, app.exception
    assert len(channels.list_deliveries(actor=north.actor(Role.ADMIN))) == 1


@pytest.mark.usefixtures("modes")
def test_the_alert_page_adds_a_rule_and_lists_its_state(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    ui.open_page(app, north.users[Role.ADMIN].id, "pages/alerts.py")
    app.text_input[0].input("Dead runs")
    app.selectbox[0].set_value("dead_runs")
    app.button(key="FormSubmitter:new_rule-Add rule").click().run()
    assert not app.exception, app.exception
    [rule] = alerts.list_rules(actor=north.actor(Role.ADMIN))
    assert rule.name == "Dead runs" and rule.metric == "dead_runs"
    assert any("Dead runs" in m.value for m in app.markdown)


@pytest.mark.usefixtures("modes")
def test_the_alert_page_edits_a_rule_and_switches_it_off(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    admin = north.actor(Role.ADMIN)
    rule = alerts.create_rule(
        actor=admin,
        rule_in=alerts.AlertRuleCreate(name="Dead runs", metric="dead_runs", threshold=0),
    )
    ui.open_page(app, north.users[Role.ADMIN].id, "pages/alerts.py")
    edit = [n for n in app.number_input if n.label == "Alert above"][1]  # [0] is the new rule's
    edit.set_value(3.0)
    app.button(key=f"FormSubmitter:edit_{rule.id}-Save rule").click().run()
    assert not app.exception, app.exception
    assert alerts.list_rules(actor=admin)[0].threshold == 3
    app.button(key=f"switch_{rule.id}").click().run()
    assert not alerts.list_rules(actor=admin)[0].is_active
    assert any("switched off" in m.value for m in app.markdown)
