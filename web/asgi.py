"""What app.py hands to st.App: extra routes, middleware and programmatic secrets."""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from web.security import SecurityHeadersMiddleware


def routes() -> list[BaseRoute]:
    """The console's own HTTP routes (the sign-in cookie; later the /api mount)."""
    return []


def middleware() -> list[Middleware]:
    """Middleware around every request: security headers first."""
    return [Middleware(SecurityHeadersMiddleware)]


def secrets() -> dict[str, Any]:
    """Programmatic secrets for st.App (the OIDC settings, when that mode is on)."""
    return {}
