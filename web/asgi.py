"""What app.py hands to st.App: extra routes, middleware and programmatic secrets."""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from streamlit import config
from streamlit.runtime.pages_manager import PagesManager

import api
from api import ops
from services import auth
from web.auth_routes import auth_routes
from web.proxy_guard import ProxyIdentityGuard
from web.return_path import OidcReturnPath
from web.security import SecurityHeadersMiddleware

PROXY_EMAIL_KEY = "proxy_email"  # pages/components/session.py reads st.user under this key


def configure_streamlit() -> None:
    """Trust identity headers only in proxy mode; otherwise make sure none are trusted."""
    email_header, user_header = auth.proxy_headers()
    trusted = (
        {email_header: PROXY_EMAIL_KEY, user_header: "proxy_user"}
        if "proxy" in auth.enabled_modes()
        else {}
    )
    config.set_option("server.trustedUserHeaders", trusted)
    # The page scripts live in pages/, but st.navigation (app.py) decides what runs. Until some
    # session had called it, Streamlit treated pages/ as a v1 multipage app, so a fresh
    # process's first request for /review_queue?item=… ran that file without sign-in.
    PagesManager.uses_pages_directory = False


def routes() -> list[BaseRoute]:
    """The console's own HTTP routes: the sign-in cookie, the agent gateway under /api, and the
    operations endpoints (/healthz, /readyz, /metrics)."""
    return [*auth_routes(), Mount("/api", app=api.create_app()), *ops.routes()]


def middleware() -> list[Middleware]:
    """Middleware around every request: security headers first, then proxy mode's identity
    headers dropped unless the request came through the proxy, then single sign-on's return
    to the page it started on."""
    return [
        Middleware(SecurityHeadersMiddleware),
        Middleware(ProxyIdentityGuard),
        Middleware(OidcReturnPath),
    ]


def secrets() -> dict[str, Any]:
    """Programmatic secrets for st.App (the OIDC settings, when that mode is on)."""
    provider = auth.oidc_provider_settings()
    return {"auth": provider} if provider else {}
