"""The policies page over real services: admins preview and save, bad input is a clear message,
nobody else reaches it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import ReviewKind, Role
from services import review
from services.tenants import TenantWithUsers
from tests.integration import review_support as rs
from tests.support import apptest as ui

Pair = tuple[TenantWithUsers, TenantWithUsers]
PAGE = "pages/policies.py"
SUBMIT = "FormSubmitter:policy_form-"


def _open(app: AppTest, user_id: int) -> AppTest:
    ui.sign_in(app, user_id)
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    app.selectbox[0].set_value(ReviewKind.DEAL_PROPOSAL).run()
    return app


def _amount(app: AppTest) -> object:
    return next(t for t in app.text_input if t.label.startswith("Second approver"))


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_an_admin_previews_then_saves_a_four_eyes_threshold(
    app: AppTest, two_tenants: Pair
) -> None:
    north, south = two_tenants
    tid = north.tenant.id
    rs.draft(tid, ReviewKind.DEAL_PROPOSAL, rs.deal(tid, amount="1000.00"), amount=1_000)
    _open(app, north.users[Role.ADMIN].id)
    assert app.title[0].value == "Review policies"

    _amount(app).input("500")  # type: ignore[attr-defined]
    app.button(key=SUBMIT + "Preview").click().run()
    assert not app.exception, app.exception
    assert "1 of 1 pending items change deciders" in ui.text(app.info[0].value)
    assert (
        review.get_policy(actor=north.actor(Role.ADMIN)).four_eyes_limits[ReviewKind.DEAL_PROPOSAL]
        == 50_000
    )

    app.button(key=SUBMIT + "Save policy").click().run()
    assert not app.exception, app.exception
    assert "Policy saved" in ui.text(app.success[0].value)
    limits = review.get_policy(actor=north.actor(Role.ADMIN)).four_eyes_limits
    assert limits[ReviewKind.DEAL_PROPOSAL] == 500
    assert (
        review.get_policy(actor=south.actor(Role.ADMIN)).four_eyes_limits[ReviewKind.DEAL_PROPOSAL]
        == 50_000
    )


@pytest.mark.usefixtures("demo_auth", "loopback")
@pytest.mark.parametrize(
    ("amount", "roles", "message"),
    [
        ("NaN", None, "finite number"),
        ("-5", None, "between 0 and"),
        ("=1+1", None, "must be a number"),
        ("100", [], "at least one role"),
    ],
)
def test_bad_input_is_a_clear_message_and_changes_nothing(
    app: AppTest, two_tenants: Pair, amount: str, roles: list[str] | None, message: str
) -> None:
    north, _ = two_tenants
    _open(app, north.users[Role.ADMIN].id)
    before = review.get_policy(actor=north.actor(Role.ADMIN))
    _amount(app).input(amount)  # type: ignore[attr-defined]
    if roles is not None:
        app.multiselect[0].set_value(roles)
    app.button(key=SUBMIT + "Save policy").click().run()
    assert not app.exception, app.exception
    assert message in ui.text(app.error[0].value)
    assert review.get_policy(actor=north.actor(Role.ADMIN)) == before


@pytest.mark.usefixtures("demo_auth", "loopback")
@pytest.mark.parametrize("role", [Role.REVIEWER, Role.VIEWER])
def test_only_admins_reach_the_policies_page(app: AppTest, two_tenants: Pair, role: Role) -> None:
    ui.sign_in(app, two_tenants[0].users[role].id)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(PAGE)
