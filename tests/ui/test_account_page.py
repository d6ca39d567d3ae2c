"""My account: setting up an authenticator needs the TOTP encryption key; without it the page
says so before any code is shown, and with it the secret is stored sealed."""

from __future__ import annotations

from collections.abc import Callable

import pyotp
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from domain.enums import Role
from domain.models import User
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.sign_in_support import NORTH_PASSWORD, TOTP_KEY, give_password

Pair = tuple[TenantWithUsers, TenantWithUsers]


def _account(app: AppTest, email: str) -> AppTest:
    app.run()
    app.text_input[0].input(email)
    app.text_input[1].input(NORTH_PASSWORD)
    app.button(key="FormSubmitter:password_sign_in-Sign in").click().run()
    assert not app.exception, app.exception
    app.switch_page("pages/account.py").run()
    assert not app.exception, app.exception
    return app


def test_without_the_key_setting_up_an_authenticator_is_refused_with_the_reason(
    app: AppTest, two_tenants: Pair, auth_mode: Callable[..., None]
) -> None:
    auth_mode("password", totp_encryption_key="")
    north, _ = two_tenants
    page = _account(app, give_password(north, Role.SALES, NORTH_PASSWORD))
    page.button[-1].click().run()  # "Set up an authenticator app"
    assert "REVO\\_TOTP\\_ENCRYPTION\\_KEY is not set" in page.error[0].value
    assert not page.code  # no secret was shown to be scanned


def test_with_the_key_the_confirmed_secret_is_stored_sealed(
    app: AppTest, two_tenants: Pair, auth_mode: Callable[..., None]
) -> None:
    auth_mode("password", totp_encryption_key=TOTP_KEY)
    north, _ = two_tenants
    page = _account(app, give_password(north, Role.SALES, NORTH_PASSWORD))
    page.button[-1].click().run()
    secret = page.code[0].value
    page.text_input[0].input(pyotp.TOTP(secret).now())
    page.button(key="FormSubmitter:confirm_totp-Turn on").click().run()
    assert not page.exception, page.exception
    with UnitOfWork(None, readonly=True) as uow:
        stored = uow.session.scalar(
            select(User.totp_secret).where(User.id == north.users[Role.SALES].id)
        )
    assert stored is not None and stored.startswith("enc1:") and secret not in stored
