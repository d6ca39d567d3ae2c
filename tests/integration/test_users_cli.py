"""`revo tenants create` and `revo users create` bootstrap a fresh install (Typer apps)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from cli.app import app as revo
from cli.users import tenants_app, users_app
from services import auth
from tests.integration.sign_in_support import actions

runner = CliRunner()
PASSWORD = "violet-Compass-tides-58"


def test_a_fresh_install_gets_its_first_admin_who_can_sign_in_with_the_password(
    db_url: str, auth_mode: Callable[..., None]
) -> None:
    auth_mode("password")
    # Through the root `revo` command, as an operator types it.
    made = runner.invoke(revo, ["tenants", "create", "--slug", "acme", "--name", "Acme Robotics"])
    assert made.exit_code == 0, made.output
    assert "created workspace acme" in made.output

    added = runner.invoke(
        revo,
        ["users", "create", "--tenant", "acme", "--email", "Ada@Acme.test", "--role", "admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert added.exit_code == 0, added.output
    assert "created admin ada@acme.test in acme with a password" in added.output

    signed = auth.password_sign_in(email="ada@acme.test", password=PASSWORD)
    assert signed.user.actor.role.value == "admin" and signed.user.tenant_name == "Acme Robotics"
    assert actions(signed.user.actor.tenant_id)[:2] == ["tenant.created", "user.created"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "nowhere", "--email", "a@b.test"], "no workspace 'nowhere'"),
        (["--tenant", "acme", "--email", "not-an-email"], "enter an email address"),
        (["--tenant", "acme", "--email", "a@b.test", "--role", "boss"], "boss"),
    ],
)
def test_bad_input_is_one_clear_line_and_a_non_zero_exit(
    db_url: str, args: list[str], message: str
) -> None:
    runner.invoke(tenants_app, ["create", "--slug", "acme", "--name", "Acme"])
    result = runner.invoke(users_app, ["create", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_a_weak_password_is_refused_and_no_account_is_made(
    db_url: str, auth_mode: Callable[..., None]
) -> None:
    auth_mode("password")
    runner.invoke(tenants_app, ["create", "--slug", "acme", "--name", "Acme"])
    result = runner.invoke(
        users_app,
        ["create", "--tenant", "acme", "--email", "ada@acme.test", "--role", "admin"],
        input="Password123!\nPassword123!\n",
    )
    assert result.exit_code == 1
    assert "too common" in result.output
    again = runner.invoke(
        users_app,
        ["create", "--tenant", "acme", "--email", "ada@acme.test", "--no-password"],
    )
    assert again.exit_code == 1 and "Password" in again.output  # still prompts in password mode


def test_a_duplicate_workspace_slug_is_refused(db_url: str) -> None:
    assert runner.invoke(tenants_app, ["create", "--slug", "acme", "--name", "A"]).exit_code == 0
    again = runner.invoke(tenants_app, ["create", "--slug", "acme", "--name", "B"])
    assert again.exit_code == 1 and "already a workspace 'acme'" in again.output
