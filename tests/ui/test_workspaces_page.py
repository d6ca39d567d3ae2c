"""The Workspaces page: a platform admin opens a workspace; other admins have no such page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import Role
from services.tenants import TenantWithUsers, find_tenant
from tests.support import apptest as ui

Pair = tuple[TenantWithUsers, TenantWithUsers]
pytestmark = pytest.mark.usefixtures("demo_auth", "loopback")


@pytest.fixture
def platform_admin(settings: Callable[..., None]) -> None:
    settings(platform_admins="admin@north.test")


def _field(app: AppTest, label: str) -> object:
    return next(t for t in app.text_input if t.label.startswith(label))


@pytest.mark.usefixtures("platform_admin")
def test_a_platform_admin_opens_a_workspace_from_the_page(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    ui.sign_in(app, north.users[Role.ADMIN].id)
    app.switch_page("pages/workspaces.py").run()
    assert not app.exception, app.exception
    assert {"north", "south"} <= set(app.dataframe[0].value["slug"])
    _field(app, "Name").input("Initech <b>Ltd</b>")  # type: ignore[attr-defined]
    _field(app, "Slug").input("initech")  # type: ignore[attr-defined]
    _field(app, "First admin's email").input("not an email")  # type: ignore[attr-defined]
    app.button(key="FormSubmitter:new_workspace-Open workspace").click().run()
    assert "enter an email address" in ui.text(app.error[0].value)
    assert find_tenant(slug="initech") is None
    _field(app, "First admin's email").input("boss@initech.test")  # type: ignore[attr-defined]
    app.button(key="FormSubmitter:new_workspace-Open workspace").click().run()
    assert not app.exception, app.exception
    assert "boss@initech.test is its admin" in ui.text(app.success[0].value)
    made = find_tenant(slug="initech")
    assert made is not None and made.name == "Initech <b>Ltd</b>"


def test_an_admin_who_is_not_a_platform_admin_has_no_such_page(
    app: AppTest, two_tenants: Pair
) -> None:
    ui.sign_in(app, two_tenants[0].users[Role.ADMIN].id)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page("pages/workspaces.py")
