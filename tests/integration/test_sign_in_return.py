"""After a password sign-in the cookie route sends the browser back to the page it asked for
(a deep link such as ``/review_queue?item=12``), and never to another origin."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from domain.enums import Role
from services import auth
from services.tenants import TenantWithUsers
from tests.integration.sign_in_support import NORTH_PASSWORD, give_password
from web.auth_routes import SESSION_PATH, auth_routes

Pair = tuple[TenantWithUsers, TenantWithUsers]
ORIGIN = {"origin": "http://testserver"}


@pytest.fixture
def client(auth_mode: Callable[..., None], two_tenants: Pair) -> TestClient:
    auth_mode("password")
    return TestClient(Starlette(routes=auth_routes()), follow_redirects=False)


def test_a_sign_in_returns_to_the_deep_link_with_its_query(
    client: TestClient, two_tenants: Pair
) -> None:
    north, _ = two_tenants
    email = give_password(north, Role.REVIEWER, NORTH_PASSWORD)
    code = auth.password_sign_in(email=email, password=NORTH_PASSWORD).handoff_code
    answer = client.post(
        SESSION_PATH, data={"code": code, "next": "/review_queue?item=12"}, headers=ORIGIN
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/review_queue?item=12"
    assert auth.COOKIE_NAME in answer.headers["set-cookie"]


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example",
        "/review_queue\r\nSet-Cookie: x=1",
        "review_queue",
        "/auth/signout",
        "/" + "a" * 5000,
        "/caf\u00e9",
        "",
    ],
)
def test_a_target_that_leaves_the_console_goes_home_instead(
    client: TestClient, target: str
) -> None:
    answer = client.post(SESSION_PATH, data={"code": "expired", "next": target}, headers=ORIGIN)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
