"""The People page over real services: list, add, change role, deactivate, reset, last admin."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import Role
from services import auth, people
from services.tenants import TenantWithUsers
from tests.integration.sign_in_support import actions

Pair = tuple[TenantWithUsers, TenantWithUsers]


def _text(markdown: str) -> str:
    return markdown.replace("\\", "")


def _open_people(app: AppTest, user_id: int) -> AppTest:
    app.run()
    app.selectbox[0].set_value(user_id)
    app.button(key="FormSubmitter:demo_sign_in-Sign in").click().run()
    assert not app.exception, app.exception
    app.switch_page("pages/people.py").run()
    assert not app.exception, app.exception
    return app


@pytest.fixture
def modes(auth_mode: Callable[..., None], loopback: None) -> None:
    auth_mode("demo,password")


@pytest.mark.usefixtures("modes")
def test_an_admin_sees_only_their_workspace_and_adds_a_person(
    app: AppTest, two_tenants: Pair
) -> None:
    north, _south = two_tenants
    _open_people(app, north.users[Role.ADMIN].id)

    emails = list(app.dataframe[0].value["Email"])
    assert sorted(emails) == sorted(u.email for u in north.users.values())

    form_inputs = app.text_input
    form_inputs[0].input("new.person@north.test")
    form_inputs[1].input("New Person")
    form_inputs[2].input("amber-Falcon-rides-97")
    app.button(key="FormSubmitter:add_person-Add").click().run()
    assert not app.exception, app.exception

    shown = _text(app.success[0].value).replace("\u2060", "")  # plain() breaks autolinks
    assert "Added new.person@north.test as viewer" in shown
    assert "new.person@north.test" in list(app.dataframe[0].value["Email"])
    signed = auth.password_sign_in(email="new.person@north.test", password="amber-Falcon-rides-97")
    assert signed.user.actor.tenant_id == north.tenant.id


@pytest.mark.usefixtures("modes")
def test_an_admin_changes_a_role_and_deactivates_someone(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    sdr = north.users[Role.SDR]
    _open_people(app, north.users[Role.ADMIN].id)

    person = next(s for s in app.selectbox if s.label == "Person")
    person.set_value(sdr.id).run()
    app.selectbox(key=f"role_{sdr.id}").set_value(Role.FINANCE).run()
    next(b for b in app.button if b.label == "Change role").click().run()
    assert not app.exception, app.exception
    next(b for b in app.button if b.label == "Deactivate").click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]

    row = {p.email: p for p in people.list_people(actor=north.actor(Role.ADMIN))}[sdr.email]
    assert row.role is Role.FINANCE and not row.is_active
    assert actions(north.tenant.id, sdr.id)[-2:] == ["user.role_changed", "user.deactivated"]


@pytest.mark.usefixtures("modes")
def test_the_last_admin_cannot_demote_themselves(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    admin = north.users[Role.ADMIN]
    _open_people(app, admin.id)

    next(s for s in app.selectbox if s.label == "Person").set_value(admin.id).run()
    app.selectbox(key=f"role_{admin.id}").set_value(Role.VIEWER).run()
    next(b for b in app.button if b.label == "Change role").click().run()

    assert "last active admin" in _text(app.error[0].value)
    assert auth.refresh_user(user_id=admin.id, method="demo").actor.role is Role.ADMIN  # type: ignore[union-attr]


@pytest.mark.usefixtures("modes")
def test_a_non_admin_has_no_people_page(app: AppTest, two_tenants: Pair) -> None:
    north, _ = two_tenants
    app.run()
    app.selectbox[0].set_value(north.users[Role.REVIEWER].id)
    app.button(key="FormSubmitter:demo_sign_in-Sign in").click().run()
    assert not app.exception, app.exception
    with pytest.raises(Exception, match="people"):
        app.switch_page("pages/people.py").run()
