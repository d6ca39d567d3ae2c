"""Single sign-on on the page: the identity st.login brought back (st.user) signs the person in,
or the sign-in screen says plainly why not and offers to leave that identity."""

from __future__ import annotations

import time
from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from domain.enums import Role
from services.tenants import TenantWithUsers
from tests.integration.sign_in_support import actions
from tests.support.apptest import APP
from tests.support.oidc import ISSUER, OIDC

Pair = tuple[TenantWithUsers, TenantWithUsers]


def _identity(sub: str, email: str) -> dict[str, object]:
    return {
        "is_logged_in": True, "iss": ISSUER, "sub": sub, "email": email,
        "email_verified": True, "iat": int(time.time()),
    }  # fmt: skip


def test_a_linked_identity_lands_signed_in_and_an_unknown_one_is_told_why(
    two_tenants: Pair, auth_mode: Callable[..., None]
) -> None:
    auth_mode("oidc", **OIDC)
    north, _ = two_tenants
    app = AppTest.from_file(APP, default_timeout=90)
    app.user = _identity("sub-ui", north.users[Role.SDR].email)
    app.run()
    assert not app.exception, app.exception
    assert app.title[0].value == "Revo Console"
    assert "North Ltd" in app.caption[0].value and "(sdr)" in app.caption[0].value
    assert "auth.signed_in" in actions(north.tenant.id, north.users[Role.SDR].id)

    stranger = AppTest.from_file(APP, default_timeout=90)
    stranger.user = _identity("sub-stranger", "<b>mallory</b>@north.test")
    stranger.run()
    assert stranger.title[0].value == "Sign in to Revo Console"
    assert "not linked to an active user" in stranger.error[0].value
    assert "\\<b\\>" in stranger.error[0].value  # the markup is escaped: shown, not rendered
    labels = [b.label for b in stranger.button]
    assert "Sign out of single sign-on" in labels
    stranger.run()  # the refusal is remembered, not retried (and audited) on every rerun
    assert "not linked to an active user" in stranger.error[0].value
