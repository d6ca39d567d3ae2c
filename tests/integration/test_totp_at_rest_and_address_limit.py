"""TOTP secrets are stored encrypted (and the migration encrypts existing ones); a missing or
changed key is a clear message. A per-address limit stops one address trying many accounts."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import select, text

from domain.enums import Role
from domain.models import User
from services import auth, db, migrate, people
from services.config import get_settings
from services.errors import InvalidInput, InvalidSettings
from services.identity import rate_limit, secret_box
from services.identity.sign_in import GENERIC_FAILURE
from services.tenants import TenantWithUsers
from services.uow import UnitOfWork
from tests.integration.sign_in_support import NORTH_PASSWORD, TOTP_KEY, enrol_totp, give_password

Pair = tuple[TenantWithUsers, TenantWithUsers]
OTHER_KEY = "another-totp-encryption-key-with-40-chars!"


def _stored_secret(user_id: int) -> str | None:
    with UnitOfWork(None, readonly=True) as uow:
        return uow.session.scalar(select(User.totp_secret).where(User.id == user_id))


def test_an_enrolled_secret_is_stored_encrypted_and_still_signs_in(
    two_tenants: Pair, auth_mode: Callable[..., None]
) -> None:
    auth_mode("password", totp_encryption_key=TOTP_KEY)
    north, _ = two_tenants
    email = give_password(north, Role.FINANCE, NORTH_PASSWORD)
    totp = enrol_totp(north, Role.FINANCE)

    stored = _stored_secret(north.users[Role.FINANCE].id)
    assert stored is not None and stored.startswith("enc1:") and totp.secret not in stored
    assert auth.password_sign_in(email=email, password=NORTH_PASSWORD, totp_code=totp.now()).user

    auth_mode("password", totp_encryption_key=f"{OTHER_KEY},{TOTP_KEY}")  # rotated: old decrypts
    later = totp.at(time.time() + totp.interval)  # the next step: the current one was used
    assert auth.password_sign_in(email=email, password=NORTH_PASSWORD, totp_code=later).user


def test_a_missing_or_wrong_key_is_a_clear_message_not_a_crash(
    two_tenants: Pair, auth_mode: Callable[..., None]
) -> None:
    auth_mode("password", totp_encryption_key=TOTP_KEY)
    north, _ = two_tenants
    email = give_password(north, Role.FINANCE, NORTH_PASSWORD)
    totp = enrol_totp(north, Role.FINANCE)

    auth_mode("password", totp_encryption_key=OTHER_KEY)
    with pytest.raises(InvalidSettings, match="the key changed"):
        auth.password_sign_in(email=email, password=NORTH_PASSWORD, totp_code=totp.now())
    auth_mode("password", totp_encryption_key="")
    with pytest.raises(InvalidSettings, match="REVO_TOTP_ENCRYPTION_KEY is not set"):
        auth.password_sign_in(email=email, password=NORTH_PASSWORD, totp_code=totp.now())
    with pytest.raises(InvalidSettings, match="REVO_TOTP_ENCRYPTION_KEY is not set"):
        people.new_totp_enrollment(actor=north.actor(Role.SALES))  # before anyone scans a code
    with pytest.raises(ValueError, match="at least 32 characters"):
        auth_mode("password", totp_encryption_key="short")
        get_settings()


def _revision_before(revision: str) -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    down = script.get_revision(revision).down_revision
    assert isinstance(down, str)
    return down


def test_the_migration_encrypts_existing_secrets_and_refuses_without_a_key(
    empty_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = empty_url
    before = _revision_before("r11oidc")
    migrate.upgrade(url, before)
    with db.get_engine(url).begin() as conn:
        conn.execute(text("INSERT INTO tenants (id, slug, name, settings, created_at) "
                          "VALUES (1, 'acme', 'Acme', '{}', CURRENT_TIMESTAMP)"))  # fmt: skip
        conn.execute(text(
            "INSERT INTO users (id, tenant_id, email, display_name, role, is_active, totp_secret,"
            " failed_sign_ins, created_at) VALUES (1, 1, 'a@acme.test', 'A', 'ADMIN',"
            " TRUE, 'JBSWY3DPEHPK3PXP', 0, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
    monkeypatch.delenv("REVO_TOTP_ENCRYPTION_KEY", raising=False)
    with pytest.raises(InvalidSettings, match="REVO_TOTP_ENCRYPTION_KEY is not set"):
        migrate.upgrade(url)
    assert migrate.current(url) == before

    monkeypatch.setenv("REVO_TOTP_ENCRYPTION_KEY", TOTP_KEY)
    migrate.upgrade(url)
    with db.get_engine(url).connect() as conn:
        sealed = conn.execute(text("SELECT totp_secret FROM users")).scalar_one()
    assert sealed.startswith("enc1:")
    assert secret_box.unseal(sealed, key_setting=TOTP_KEY) == "JBSWY3DPEHPK3PXP"

    migrate.downgrade(url, before)
    with db.get_engine(url).connect() as conn:
        assert conn.execute(text("SELECT totp_secret FROM users")).scalar_one() == (
            "JBSWY3DPEHPK3PXP"
        )
    db.get_engine(url).dispose()


def test_one_address_failing_on_many_accounts_is_stopped_while_others_are_not(
    two_tenants: Pair, auth_mode: Callable[..., None]
) -> None:
    auth_mode("password", auth_ip_max_failures="3", auth_max_failures="50")
    north, _ = two_tenants
    email = give_password(north, Role.REVIEWER, NORTH_PASSWORD)
    for role in (Role.SDR, Role.SALES, Role.FINANCE):  # a different account each time
        with pytest.raises(InvalidInput, match=GENERIC_FAILURE[:20]):
            auth.password_sign_in(
                email=north.users[role].email, password="wrong-Password-42x",
                client_address="203.0.113.9",
            )  # fmt: skip
    with pytest.raises(InvalidInput, match="Too many failed sign-ins from your network address"):
        auth.password_sign_in(email=email, password=NORTH_PASSWORD, client_address="203.0.113.9")
    # Another address, with the right password, is not affected (nor is the account locked).
    ok = auth.password_sign_in(email=email, password=NORTH_PASSWORD, client_address="198.51.100.7")
    assert ok.user.actor.role is Role.REVIEWER


def test_the_address_window_forgets_failures_once_it_has_passed() -> None:
    now = [1000.0]
    window = rate_limit.FailureWindow(clock=lambda: now[0])
    for _ in range(2):
        window.record_failure("192.0.2.1", window_s=60)
    assert window.retry_after("192.0.2.1", limit=2, window_s=60) == 60
    assert window.retry_after("192.0.2.1", limit=3, window_s=60) == 0  # under the limit
    assert window.retry_after("192.0.2.9", limit=2, window_s=60) == 0  # another address
    now[0] += 45
    assert window.retry_after("192.0.2.1", limit=2, window_s=60) == 15
    now[0] += 15
    assert window.retry_after("192.0.2.1", limit=2, window_s=60) == 0
