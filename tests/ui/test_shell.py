"""The console shell: demo sign-in, role-based navigation, the home page's counts."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import ReviewStatus, Role
from services.tenants import TenantWithUsers
from tests.support import apptest as ui
from tests.support import scenarios

Pair = tuple[TenantWithUsers, TenantWithUsers]


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_reviewer_signs_in_and_sees_their_tenants_counts_on_the_home_page(
    app: AppTest, two_tenants: Pair
) -> None:
    north, south = two_tenants
    scenarios.add_review_item(north.tenant.id, status=ReviewStatus.PENDING, overdue=True)
    scenarios.add_review_item(north.tenant.id, status=ReviewStatus.PENDING)
    scenarios.add_review_item(south.tenant.id, status=ReviewStatus.PENDING)

    ui.sign_in(app, north.users[Role.REVIEWER].id)

    assert app.title[0].value == "Revo Console"
    assert "North Ltd" in app.caption[0].value
    tiles = {m.label: m.value for m in app.metric}
    assert tiles["Pending"] == "2"
    assert any("1 pending items are past their due time" in c.value for c in app.caption)


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_sign_in_lists_users_of_every_tenant(app: AppTest, two_tenants: Pair) -> None:
    app.run()
    options = app.selectbox[0].options
    assert len(options) == 2 * len(Role)
    assert any("North Ltd" in o for o in options) and any("South plc" in o for o in options)


@pytest.mark.usefixtures("demo_auth")
def test_demo_sign_in_is_refused_when_the_console_listens_beyond_loopback(
    app: AppTest, two_tenants: Pair
) -> None:
    from streamlit import config as st_config

    previous = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    try:
        app.run()
    finally:
        st_config.set_option("server.address", previous)
    assert "loopback" in ui.text(app.error[0].value)
    assert len(app.selectbox) == 0


@pytest.mark.usefixtures("loopback")
def test_sign_in_is_unavailable_when_demo_mode_is_off(app: AppTest, two_tenants: Pair) -> None:
    app.run()
    assert "REVO_AUTH_MODE=demo" in ui.text(app.error[0].value)
