"""`revo users ...` and `revo tenants ...`: bootstrap a fresh install without demo data.

Typer apps for the root `revo` command to mount (``app.add_typer(users_app, name="users")``).
"""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from pydantic import SecretStr

from services import auth, forms, people, tenants
from services.auth import Role
from services.errors import ServiceError

users_app = typer.Typer(help="Accounts of a workspace.", no_args_is_help=True)
tenants_app = typer.Typer(help="Workspaces (tenants).", no_args_is_help=True)


@users_app.callback()
def _users() -> None:
    """Accounts of a workspace."""


@tenants_app.callback()
def _tenants() -> None:
    """Workspaces (tenants)."""


def _fail(message: str) -> NoReturn:
    typer.secho(f"revo: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=1)


@tenants_app.command("create")
def create_tenant(
    slug: Annotated[str, typer.Option(help="Short name used in sign-in, e.g. acme.")],
    name: Annotated[str, typer.Option(help="Display name, e.g. 'Acme Robotics'.")],
    jit_signup: Annotated[
        bool, typer.Option(help="Let unknown single sign-on identities join as viewers.")
    ] = False,
) -> None:
    """Create an empty workspace."""
    try:
        tenant = tenants.create_tenant(slug=slug, name=name, jit_signup=jit_signup)
    except ServiceError as exc:
        _fail(exc.message)
    typer.echo(f"created workspace {tenant.slug} ({tenant.name}), id {tenant.id}")


@users_app.command("create")
def create_user(
    tenant: Annotated[str, typer.Option("--tenant", help="The workspace's slug.")],
    email: Annotated[str, typer.Option(help="The person's email address.")],
    role: Annotated[Role, typer.Option(help="Their role.")] = Role.VIEWER,
    name: Annotated[str, typer.Option(help="Display name (default: from the email).")] = "",
    password: Annotated[
        bool,
        typer.Option(
            "--password/--no-password",
            help="Ask for a password (the default when password sign-in is on).",
        ),
    ] = False,
) -> None:
    """Create an account; in password mode, prompt for its password."""
    secret = None
    if password or "password" in auth.enabled_modes():
        secret = SecretStr(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    try:
        person_in = forms.parse(
            people.PersonCreate, email=email, display_name=name, role=role, password=secret
        )
        person = people.create_user_as_operator(tenant_slug=tenant, person_in=person_in)
    except ServiceError as exc:
        _fail(exc.message)
    note = " with a password" if person.has_password else ""
    typer.echo(f"created {person.role.value} {person.email} in {tenant}{note}, id {person.id}")
