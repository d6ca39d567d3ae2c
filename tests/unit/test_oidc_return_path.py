"""Single sign-on's return path: the same-origin page a sign-in started on is sealed into a cookie
at /auth/login and replaces the callback's redirect home; nothing hostile gets through the guard.

The app inside the middleware answers like Streamlit's auth routes (a redirect to the provider,
a redirect home); the browser journey in tests/e2e/test_oidc_journey.py runs the real ones."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from services import auth
from web.auth_routes import _local_target
from web.return_path import OidcReturnPath

HOST = "console.test"
ORIGIN = f"http://{HOST}"
OIDC = {
    "oidc_client_id": "revo",
    "oidc_client_secret": "client-secret",
    "oidc_metadata_url": "https://idp.example.test/.well-known/openid-configuration",
    "oidc_redirect_uri": f"{ORIGIN}/oauth2callback",
    "oidc_cookie_secret": "c" * 40,
}
HOSTILE = [
    "//evil.test",
    "//evil.test/review_queue?item=5",
    "https://evil.test",
    "https://evil.test/review_queue",
    "/\\evil.test",
    "/review_queue\\..\\x",
    "/review_queue?item=5\r\nSet-Cookie: x=1",
    "/review_queue?item=5\nLocation: https://evil.test",
    "/review_queue?item=5%0d%0a",  # percent-encoded stays inert text in a query: allowed below
    "/" + "a" * 5000,
    "javascript:alert(1)",
    "review_queue?item=5",
    "",
    "/auth/login?provider=x",
    "/oauth2callback?code=1",
    "/api/v1/items",
    "/review_queue?item=5#frag",
    "/review queue",
    "/révision",
    "/\x00",
    "\t/review_queue",
]


@pytest.fixture
def oidc(auth_mode: Callable[..., None]) -> None:
    auth_mode("oidc", **OIDC)


def _client() -> TestClient:
    async def login(_request: Request) -> RedirectResponse:
        return RedirectResponse("https://idp.example.test/authorize?state=s", status_code=302)

    async def callback(_request: Request) -> RedirectResponse:
        return RedirectResponse("/", status_code=302)  # what Streamlit's callback always does

    app = Starlette(
        routes=[Route("/auth/login", login), Route("/oauth2callback", callback)],
    )
    return TestClient(OidcReturnPath(app), base_url=ORIGIN, follow_redirects=False)


@pytest.fixture
def client(oidc: None) -> Iterator[TestClient]:
    with _client() as c:
        yield c


def _login(client: TestClient, referer: str | None, **headers: str) -> str | None:
    sent = {"referer": referer, **headers} if referer is not None else headers
    response = client.get("/auth/login?provider=p", headers=sent)
    assert response.status_code == 302
    assert response.headers["location"].startswith("https://idp.example.test/")
    return response.cookies.get(auth.RETURN_COOKIE)


def test_the_page_a_sign_in_started_on_is_where_the_callback_returns(client: TestClient) -> None:
    _login(client, f"{ORIGIN}/review_queue?item=5")
    cookie = next(c for c in client.cookies.jar if c.name == auth.RETURN_COOKIE)
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/"
    back = client.get("/oauth2callback?code=c&state=s")
    assert back.status_code == 302 and back.headers["location"] == "/review_queue?item=5"
    assert auth.RETURN_COOKIE not in client.cookies  # used once, then cleared
    again = client.get("/oauth2callback?code=c&state=s")
    assert again.headers["location"] == "/"


@pytest.mark.parametrize(
    "link", ["/investigations?investigation=3", "/investigations?investigation=3&event=7"]
)
def test_investigation_links_come_back_whole(client: TestClient, link: str) -> None:
    _login(client, ORIGIN + link)
    assert client.get("/oauth2callback").headers["location"] == link


def test_the_login_redirect_sets_a_lax_short_lived_cookie(client: TestClient) -> None:
    response = client.get("/auth/login", headers={"referer": f"{ORIGIN}/review_queue?item=9"})
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{auth.RETURN_COOKIE}=")
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert f"Max-Age={auth.RETURN_TTL_S}" in set_cookie and "/review_queue" not in set_cookie


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_guard_refuses_what_could_leave_the_console(hostile: str) -> None:
    if hostile == "/review_queue?item=5%0d%0a":
        assert auth.local_target(hostile) == hostile  # encoded: no header break, stays a query
        return
    assert auth.local_target(hostile) is None
    assert _local_target(hostile) == "/"  # the password handoff's guard is the same one


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.test/review_queue?item=5",  # another site
        "http://console.test.evil.test/review_queue?item=5",
        f"{ORIGIN}//evil.test",
        f"{ORIGIN}/\\evil.test",
        f"{ORIGIN}/auth/login?provider=p",
        f"{ORIGIN}/" + "a" * 5000,
        "",
        None,
    ],
)
def test_no_cookie_without_a_same_origin_page(client: TestClient, referer: str | None) -> None:
    assert _login(client, referer) is None
    assert client.get("/oauth2callback").headers["location"] == "/"


def test_a_cross_site_navigation_never_chooses_the_return(client: TestClient) -> None:
    sent = {"sec-fetch-site": "cross-site"}
    assert _login(client, f"{ORIGIN}/review_queue?item=5", **sent) is None


@pytest.mark.parametrize(
    "forged",
    [
        "Ly9ldmlsLnRlc3Q.bad",
        "x",
        "",
        "a.b.c",
        "%%%.%%%",
        "A" * 20000,
    ],
)
def test_a_forged_or_altered_cookie_returns_home(client: TestClient, forged: str) -> None:
    client.cookies.set(auth.RETURN_COOKIE, forged)
    back = client.get("/oauth2callback")
    assert back.headers["location"] == "/"
    assert f"{auth.RETURN_COOKIE}=;" in back.headers["set-cookie"]  # and it is cleared


def test_a_sealed_hostile_path_or_an_expired_seal_opens_to_nothing(oidc: None) -> None:
    for hostile in HOSTILE[:8]:
        assert auth.seal_return_path(path=hostile) is None
    sealed = auth.seal_return_path(path="/review_queue?item=5", now=1_000_000)
    assert sealed is not None
    assert auth.open_return_path(sealed=sealed, now=1_000_000 + 60) == "/review_queue?item=5"
    assert auth.open_return_path(sealed=sealed, now=1_000_000 + auth.RETURN_TTL_S + 1) is None
    body, mac = sealed.split(".")
    assert auth.open_return_path(sealed=f"{body[:-2]}AA.{mac}", now=1_000_000) is None


def test_a_seal_made_with_another_secret_is_worthless(
    oidc: None, auth_mode: Callable[..., None]
) -> None:
    sealed = auth.seal_return_path(path="/review_queue?item=5")
    assert sealed is not None
    auth_mode("oidc", **{**OIDC, "oidc_cookie_secret": "d" * 40})
    assert auth.open_return_path(sealed=sealed) is None


def test_outside_oidc_mode_the_routes_are_left_alone(auth_mode: Callable[..., None]) -> None:
    auth_mode("password")
    with _client() as client:
        response = client.get("/auth/login", headers={"referer": f"{ORIGIN}/review_queue"})
        assert "set-cookie" not in response.headers
