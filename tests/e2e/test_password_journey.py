"""Password sign-in in a real browser: the HttpOnly cookie, a reload, a role change taking effect
mid-session, the People page, and a sign-out that ends the session on the server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from pydantic import SecretStr

from domain.enums import Role
from services import db, migrate, people, tenants
from tests.support.console import ARTIFACTS, running_console

pytestmark = pytest.mark.e2e
PASSWORD = "amber-Falcon-rides-97"


@pytest.fixture(scope="module")
def password_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    workdir = tmp_path_factory.mktemp("password-console")
    url = f"sqlite:///{workdir / 'revo.db'}"
    migrate.upgrade(url)
    db.configure(url)
    tenants.create_tenant(slug="acme", name="Acme Robotics")
    for email, role in (("ada@acme.test", Role.ADMIN), ("bo@acme.test", Role.ADMIN)):
        people.create_user_as_operator(
            tenant_slug="acme",
            person_in=people.PersonCreate(email=email, role=role, password=SecretStr(PASSWORD)),
        )
    env = {"REVO_DATABASE_URL": url, "REVO_AUTH_MODE": "password"}
    with running_console(workdir, env) as console:
        yield console, url


def _session_cookie(context: Any, *, present: bool = True) -> dict[str, Any] | None:
    """The revo_session cookie once the handoff set it (or None once sign-out cleared it)."""
    for _ in range(60):
        found = [c for c in context.cookies() if c["name"] == "revo_session"]
        if bool(found) == present:
            return found[0] if found else None
        context.pages[0].wait_for_timeout(250)
    raise AssertionError(f"the session cookie is {'missing' if present else 'still there'}")


def _sign_in(page: Any, console: str, email: str) -> None:
    page.goto(console)
    expect(page.get_by_role("heading", name="Sign in to Revo Console")).to_be_visible(
        timeout=90_000
    )
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Revo Console", exact=True)).to_be_visible(
        timeout=90_000
    )


def test_an_admin_signs_in_reloads_sees_people_loses_admin_mid_session_and_signs_out(
    password_console: tuple[str, str], browser: Any
) -> None:
    console, url = password_console
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    _sign_in(page, console, "ada@acme.test")

    cookie = _session_cookie(context)  # the handoff posted the code; the answer set the cookie
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    expect(page.get_by_role("heading", name="Revo Console", exact=True)).to_be_visible(
        timeout=90_000
    )

    page.reload()
    expect(page.get_by_role("heading", name="Revo Console", exact=True)).to_be_visible(
        timeout=90_000
    )
    page.get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", name="People")).to_be_visible(timeout=90_000)
    expect(page.get_by_role("heading", name="Change an account")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "people.png"), full_page=True)
    expect(page.get_by_test_id("stDataFrame")).to_be_visible(timeout=90_000)

    db.configure(url)
    admin = tenants.admin_actor(slug="acme")
    ada = next(p for p in people.list_people(actor=admin) if p.email == "ada@acme.test")
    other = next(p for p in people.list_people(actor=admin) if p.email == "bo@acme.test")
    people.change_role(actor=admin.model_copy(update={"user_id": other.id}), user_id=ada.id,
                       role=Role.VIEWER)  # fmt: skip
    page.get_by_role("link", name="Home").click()
    expect(page.get_by_text("(viewer)").first).to_be_visible(timeout=90_000)
    expect(page.get_by_role("link", name="People")).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Revo Console")).to_be_visible(
        timeout=90_000
    )
    assert _session_cookie(context, present=False) is None
    page.wait_for_load_state()  # the sign-out post answered with a redirect home
    page.goto(console)
    expect(page.get_by_role("heading", name="Sign in to Revo Console")).to_be_visible(
        timeout=90_000
    )
    context.close()


def test_a_stolen_cookie_is_worthless_after_sign_out(
    password_console: tuple[str, str], browser: Any
) -> None:
    console, _url = password_console
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, console, "bo@acme.test")
    stolen = _session_cookie(context)
    assert stolen is not None
    expect(page.get_by_role("heading", name="Revo Console", exact=True)).to_be_visible(
        timeout=90_000
    )
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Revo Console")).to_be_visible(
        timeout=90_000
    )
    thief = browser.new_context()
    thief.add_cookies([stolen])  # type: ignore[list-item]
    other = thief.new_page()
    other.goto(console)
    expect(other.get_by_role("heading", name="Sign in to Revo Console")).to_be_visible(
        timeout=90_000
    )
    thief.close()
    context.close()
