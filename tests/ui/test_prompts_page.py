"""The Prompts page over real services: who reaches it, a refused edit, save, activate, undo."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import Role
from services import prompts
from services.tenants import TenantWithUsers
from tests.support import apptest as ui

Pair = tuple[TenantWithUsers, TenantWithUsers]
PAGE = "pages/prompts.py"
KEY = "sdr.outreach"


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_an_admin_saves_a_validated_version_activates_it_and_rolls_back(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    admin = north.actor(Role.ADMIN)
    ui.open_page(app, north.users[Role.ADMIN].id, PAGE)
    app.selectbox(key="pr_key").set_value(KEY).run()
    template = next(a for a in app.text_area if a.label == "Template")
    original = template.value
    template.input(original.replace("{company}", "{revenue}"))
    app.button(key=f"FormSubmitter:pr_new_version_{KEY}_1-Save as new version").click().run()
    assert "no input named revenue" in ui.text(app.error[0].value)
    assert [p.version for p in prompts.list_prompts(actor=admin, key=KEY)] == [1]

    template = next(a for a in app.text_area if a.label == "Template")
    template.input(original.replace("briefly", "very briefly"))
    app.button(key=f"FormSubmitter:pr_new_version_{KEY}_1-Save as new version").click().run()
    assert not app.exception, app.exception
    assert f"Saved {KEY} v2" in ui.text(app.success[0].value)
    app.selectbox(key=f"pr_v_{KEY}").set_value(2).run()
    assert "very briefly" in app.code[0].value
    assert "+Write plainly and very briefly" in ui.text(app.code[1].value)
    app.button(key="pr_activate").click().run()
    assert f"{KEY} v2 is now active" in ui.text(app.success[0].value)
    app.button(key="pr_rollback").click().run()
    assert "v1 is now active" in ui.text(app.success[0].value)
    active = [p.version for p in prompts.list_prompts(actor=admin, key=KEY) if p.is_active]
    assert active == [1]
    assert list(app.dataframe[0].value["Version"]) == ["v2", "v1 (active)"]


@pytest.mark.usefixtures("demo_auth", "loopback")
@pytest.mark.parametrize("role", [Role.REVIEWER, Role.SDR, Role.VIEWER])
def test_no_one_but_an_admin_reaches_the_prompts_page(
    app: AppTest, two_tenants: Pair, role: Role
) -> None:
    app.run()
    app.selectbox[0].set_value(two_tenants[0].users[role].id)
    app.button[0].click().run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(PAGE)
