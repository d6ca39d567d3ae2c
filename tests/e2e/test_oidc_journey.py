"""Single sign-on in a real browser: click sign in, land at a real OpenID Connect provider on
loopback (authorization code with PKCE), come back signed in with the role a groups claim maps
to, reload and stay signed in, sign out (the server session ends, Streamlit's cookie goes).
A link opened signed out (a review item, an investigation) is where the sign-in comes back to."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from domain.enums import ReviewKind, Role
from domain.models import AuthSession, User
from services import db, migrate, people, tenants
from services.uow import UnitOfWork
from tests.integration import review_support as rs
from tests.integration.sign_in_support import actions
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Person, Provider, running_provider
from tests.support.console import ARTIFACTS, running_console

pytestmark = pytest.mark.e2e
HOME = "Revo Console"


@pytest.fixture(scope="module")
def oidc_console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Provider]]:
    workdir = tmp_path_factory.mktemp("oidc-console")
    url = f"sqlite:///{workdir / 'revo.db'}"
    migrate.upgrade(url)
    db.configure(url)
    tenants.create_tenant(slug="acme", name="Acme Robotics")
    people.create_user_as_operator(
        tenant_slug="acme",
        person_in=people.PersonCreate(email="ada@acme.test", role=Role.VIEWER),
    )
    person = Person(subject="ada-1", email="ada@acme.test", name="Ada", extra={"groups": ["ops"]})
    with running_provider(person) as provider:
        env = {
            "REVO_DATABASE_URL": url,
            "REVO_AUTH_MODE": "oidc",
            "REVO_OIDC_CLIENT_ID": CLIENT_ID,
            "REVO_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "REVO_OIDC_METADATA_URL": f"{provider.issuer}/.well-known/openid-configuration",
            "REVO_OIDC_REDIRECT_URI": "http://127.0.0.1:{port}/oauth2callback",
            "REVO_OIDC_COOKIE_SECRET": "a-cookie-secret-for-the-e2e-test-only-0123",
            "REVO_OIDC_ROLE_CLAIM": "groups",
            "REVO_OIDC_ROLE_MAP": "ops=admin",
        }
        with running_console(workdir, env) as console:
            yield console, provider


def _sessions(user_id: int) -> list[tuple[str, bool]]:
    """(method, ended) of each of the user's server-side sessions."""
    with UnitOfWork(None, readonly=True) as uow:
        rows = uow.session.scalars(select(AuthSession).where(AuthSession.user_id == user_id))
        return [(s.method, s.ended_at is not None) for s in rows]


def _ada() -> User:
    with UnitOfWork(None, readonly=True) as uow:
        user = uow.session.scalar(select(User).where(User.email == "ada@acme.test"))
        assert user is not None
        uow.session.expunge(user)
        return user


def test_single_sign_on_maps_the_role_survives_a_reload_and_signs_out(
    oidc_console: tuple[str, Provider], browser: Any
) -> None:
    console, provider = oidc_console
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(console)
    expect(page.get_by_role("heading", name="Sign in to Revo Console")).to_be_visible(
        timeout=90_000
    )
    page.get_by_role("button", name="Sign in with single sign-on").click()

    expect(page.get_by_role("heading", name=HOME, exact=True)).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Acme Robotics · admin")).to_be_visible(timeout=90_000)
    assert len(provider.authorize_requests) == 1  # the browser really went to the provider
    asked = provider.authorize_requests[0]
    assert asked["code_challenge_method"] == "S256" and asked["nonce"] and asked["state"]
    assert asked["redirect_uri"] == f"{console}/oauth2callback"
    expect(page.get_by_role("link", name="People")).to_be_visible()  # the mapped role's pages
    ada = _ada()
    assert (ada.oidc_issuer, ada.oidc_subject, ada.role) == (provider.issuer, "ada-1", Role.ADMIN)

    for _ in range(60):  # the handoff sets the console's own session cookie
        if any(c["name"] == "revo_session" for c in context.cookies()):
            break
        page.wait_for_timeout(250)
    page.reload()
    expect(page.get_by_role("heading", name=HOME, exact=True)).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Acme Robotics · admin")).to_be_visible(timeout=90_000)
    assert len(provider.authorize_requests) == 1  # the reload did not go back to the provider
    assert _sessions(ada.id) == [("oidc", False)]  # the reload resumed it; none was opened
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "oidc-home.png"), full_page=True)

    with page.expect_response(lambda r: r.url.endswith("/auth/logout"), timeout=90_000) as out:
        page.get_by_role("button", name="Sign out").click()  # st.logout's redirect
    assert out.value.status == 302
    expect(page.get_by_role("heading", name="Sign in to Revo Console")).to_be_visible(
        timeout=90_000
    )
    assert not any(c["name"].startswith("_streamlit_user") for c in context.cookies())
    page.reload()  # the identity cookie is gone: no silent sign-in again
    expect(page.get_by_role("button", name="Sign in with single sign-on")).to_be_visible(
        timeout=90_000
    )
    assert _sessions(ada.id) == [("oidc", True)]  # sign-out ended it on the server
    assert {"auth.identity_linked", "user.role_changed", "auth.signed_out"} <= set(
        actions(ada.tenant_id, ada.id)
    )
    context.close()


def test_a_link_opened_signed_out_is_where_single_sign_on_returns(
    oidc_console: tuple[str, Provider], browser: Any
) -> None:
    console, provider = oidc_console
    tenant_id = _ada().tenant_id
    item = rs.draft(tenant_id, ReviewKind.OUTREACH_EMAIL, rs.lead(tenant_id)).id
    investigation = rs.investigation(tenant_id)
    asked_before = len(provider.authorize_requests)
    for link, landed in [
        (f"/review_queue?item={item}", ("heading", f"#{item} · outreach email")),
        (f"/investigations?investigation={investigation}", ("heading", f"#{investigation} ")),
    ]:
        context = browser.new_context(viewport={"width": 1400, "height": 900})  # signed out
        page = context.new_page()
        page.goto(console + link)
        page.get_by_role("button", name="Sign in with single sign-on").click(timeout=90_000)
        role, name = landed
        expect(page.get_by_role(role, name=name).first).to_be_visible(timeout=90_000)
        expect(page.get_by_text("Acme Robotics · admin")).to_be_visible()
        assert page.url == console + link  # the callback and the cookie handoff both kept it
        assert not any(c["name"] == "revo_return_to" for c in context.cookies())  # used up
        context.close()
    assert len(provider.authorize_requests) == asked_before + 2  # each went to the provider
