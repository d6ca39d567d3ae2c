"""Single sign-on brings a deep link back (``/review_queue?item=5`` → provider → that item).

Streamlit 1.67 offers no hook for it: st.login navigates the browser to ``/auth/login`` with a
server-made provider token, and ``/oauth2callback`` always answers with a redirect home. So this
pure ASGI middleware watches both routes:

- ``GET /auth/login``: the page the person was on arrives as the same-origin ``Referer`` (our
  Referrer-Policy, strict-origin-when-cross-origin, sends the full URL to our own origin only).
  Its path and query, if they pass ``auth.local_target``, go into a sealed (signed, expiring),
  HttpOnly, SameSite=Lax cookie set on the redirect to the provider. Anything else clears it.
- ``GET /oauth2callback``: a redirect home becomes a redirect to the sealed path; the cookie is
  cleared either way. The callback is a top-level GET from the provider, which Lax lets through.

After the callback, the page's own handoff (web/handoff.js) keeps the path it landed on.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit import config
from streamlit.url_util import make_url_path

from services import auth

LOGIN_ROUTE = "/auth/login"
CALLBACK_ROUTE = "/oauth2callback"
REDIRECTS = {302, 303, 307}


def _cookie(value: str, *, max_age: int, secure: bool) -> str:
    flags = f"Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
    return f"{auth.RETURN_COOKIE}={value}; {flags}"


def referred_path(headers: Headers) -> str | None:
    """The path and query of a same-origin Referer that is a page of this console, else None."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site != "same-origin":
        return None  # a navigation started by another site never chooses where we return
    referer = headers.get("referer", "")
    if len(referer) > 4096:
        return None
    try:
        parts = urlsplit(referer)
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or parts.netloc != headers.get("host"):
        return None
    target = f"{parts.path}?{parts.query}" if parts.query else parts.path
    return auth.local_target(target)


class OidcReturnPath:
    """Carries the page a single sign-on started on across the provider's sign-in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        base = config.get_option("server.baseUrlPath")
        path = scope.get("path", "")
        if path not in {make_url_path(base, LOGIN_ROUTE), make_url_path(base, CALLBACK_ROUTE)}:
            await self.app(scope, receive, send)
            return
        if "oidc" not in auth.enabled_modes():
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        held = cookie_parser(headers.get("cookie", "")).get(auth.RETURN_COOKIE)
        secure = scope.get("scheme") == "https"
        home = make_url_path(base, "/")
        sealed: str | None = None  # on the way out: the cookie to set
        target: str | None = None  # on the way back: where the redirect home goes instead
        if path == make_url_path(base, LOGIN_ROUTE):
            referred = referred_path(headers)
            sealed = auth.seal_return_path(path=referred) if referred else None
        elif held:
            target = auth.open_return_path(sealed=held)

        async def send_rewritten(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                redirect = message["status"] in REDIRECTS
                if sealed and redirect:
                    out.append(
                        "set-cookie", _cookie(sealed, max_age=auth.RETURN_TTL_S, secure=secure)
                    )
                elif held is not None:
                    out.append("set-cookie", _cookie("", max_age=0, secure=secure))
                if target and redirect and out.get("location") == home:
                    out["location"] = target
            await send(message)

        await self.app(scope, receive, send_rewritten)
