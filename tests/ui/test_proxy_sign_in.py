"""Proxy mode: the identity header (mapped into st.user by server.trustedUserHeaders) signs the
person in only when proxy mode is on; without it, or with the mode off, nobody is signed in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from domain.enums import Role
from services import auth, people
from services.errors import PermissionDenied
from services.tenants import TenantWithUsers
from tests.integration.sign_in_support import actions
from tests.support.apptest import APP

Pair = tuple[TenantWithUsers, TenantWithUsers]


@pytest.fixture
def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=90)  # a loaded CI box is slow to start


def test_the_proxys_identity_signs_the_user_in_with_their_role_and_tenant(
    app: AppTest, two_tenants: Pair, auth_mode: Callable[..., None]
) -> None:
    auth_mode("proxy")
    north, _ = two_tenants
    app.user = {"proxy_email": "Reviewer@North.test"}
    app.run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Revo Console"
    assert "North Ltd" in app.caption[0].value and "(reviewer)" in app.caption[0].value
    assert "auth.signed_in" in actions(north.tenant.id, north.users[Role.REVIEWER].id)

    # Deactivated: the proxy's word no longer signs them in.
    people.set_active(
        actor=north.actor(Role.ADMIN), user_id=north.users[Role.REVIEWER].id, active=False
    )
    assert auth.resume_session(token=app.session_state["revo_session_token"]) is None
    with pytest.raises(PermissionDenied, match="exactly one active user"):
        auth.proxy_sign_in(email="reviewer@north.test")


def test_without_the_header_the_proxy_mode_signs_nobody_in(
    app: AppTest, two_tenants: Pair, auth_mode: Callable[..., None]
) -> None:
    auth_mode("proxy")
    app.user = {}
    app.run()
    assert app.title[0].value == "Sign in to Revo Console"
    assert "sign-in proxy" in app.info[0].value


def test_the_header_is_ignored_while_proxy_mode_is_off(
    app: AppTest, two_tenants: Pair, auth_mode: Callable[..., None]
) -> None:
    auth_mode("password")
    app.user = {"proxy_email": "admin@north.test"}
    app.run()
    assert app.title[0].value == "Sign in to Revo Console"
    with pytest.raises(PermissionDenied):
        auth.proxy_sign_in(email="admin@north.test")


def test_an_identity_in_two_workspaces_or_none_is_refused(
    two_tenants: Pair, auth_mode: Callable[..., None]
) -> None:
    auth_mode("proxy")
    north, south = two_tenants
    for tenant in (north, south):
        people.create_person(
            actor=tenant.actor(Role.ADMIN), person_in=people.PersonCreate(email="pat@both.test")
        )
    with pytest.raises(PermissionDenied, match="exactly one active user"):
        auth.proxy_sign_in(email="pat@both.test")
    with pytest.raises(PermissionDenied, match="exactly one active user"):
        auth.proxy_sign_in(email="stranger@nowhere.test")
    signed = auth.proxy_sign_in(email="admin@south.test")
    assert signed.user.actor.tenant_id == south.tenant.id  # never North's
