"""The password policy and the lockout back-off, without a database."""

from __future__ import annotations

import pytest

from domain.models.tenancy import lockout_seconds
from services.identity import passwords


@pytest.mark.parametrize(
    "password",
    [
        "short",
        "Password123!",
        "P@ssw0rd2024!!",
        "qwertyuiop1234",
        "aaaaaaaaaaaaaaaa",
        "abcdefghijklmn",
        "12345678901234",
        "Welcome1Welcome1"[:8] + "!!!!!!!!",
        "ada.lovelace-2024",  # contains the email's local part
        "acmerobotics-rules",  # contains the email's domain
        "x" * 300,
    ],
)
def test_weak_passwords_are_refused(password: str) -> None:
    email = "ada.lovelace@acmerobotics.test"
    assert passwords.policy_problem(password, email=email, min_length=12) is not None


@pytest.mark.parametrize("password", ["amber-Falcon-rides-97", "correct horse battery ink"])
def test_long_uncommon_passwords_are_accepted(password: str) -> None:
    assert passwords.policy_problem(password, email="ada@acme.test", min_length=12) is None


def test_hashes_are_argon2id_salted_and_verify_only_the_right_password() -> None:
    first, second = (
        passwords.hash_password("amber-Falcon-rides-97"),
        passwords.hash_password("amber-Falcon-rides-97"),
    )
    assert first.startswith("$argon2id$") and first != second
    assert passwords.verify_password(first, "amber-Falcon-rides-97")
    assert not passwords.verify_password(first, "amber-Falcon-rides-98")
    assert not passwords.verify_password(None, "amber-Falcon-rides-97")
    assert not passwords.verify_password("not a hash", "anything")


def test_lockout_starts_at_the_limit_and_doubles_up_to_the_cap() -> None:
    seconds = [lockout_seconds(n, max_failures=5, base_s=30, max_s=600) for n in range(4, 11)]
    assert seconds == [0.0, 30.0, 60.0, 120.0, 240.0, 480.0, 600.0]


def test_auth_modes_combine_and_unknown_or_unready_modes_are_refused() -> None:
    from pydantic import ValidationError

    from services.config import Settings

    assert Settings(auth_mode="password, Proxy").auth_modes == {"password", "proxy"}
    assert Settings(auth_mode="disabled").auth_modes == frozenset()
    for bad in ("pasword", "disabled,password", "oidc"):
        with pytest.raises(ValidationError):
            Settings(auth_mode=bad)
    with pytest.raises(ValidationError, match="demo is not allowed in production"):
        Settings(auth_mode="password,demo", env="production", secret_key="k" * 40)
