"""Proxy mode's identity headers count only on requests that came through the proxy.

Streamlit trusts the identity headers (REVO_PROXY_EMAIL_HEADER / _USER_HEADER) of the request
that opens a session. Anyone who reaches the console without going through the authenticating
proxy could send them too, so with REVO_PROXY_SHARED_SECRET set every HTTP request and WebSocket
whose secret header does not match has its identity headers removed before Streamlit sees them.
The secret header itself never reaches the app.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from services import auth


class ProxyIdentityGuard:
    """Pure ASGI (the WebSocket that opens a session passes through it too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"} and "proxy" in auth.enabled_modes():
            scope = dict(scope, headers=_vetted(scope.get("headers") or []))
        await self.app(scope, receive, send)


def _vetted(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    secret_name = auth.proxy_secret_header().lower().encode("latin-1")
    identity = {h.lower().encode("latin-1") for h in auth.proxy_headers()}
    presented = [value for name, value in headers if name.lower() == secret_name]
    one = presented[0].decode("latin-1") if len(presented) == 1 else None
    vouched = auth.proxy_vouches(presented=one)
    return [
        (name, value)
        for name, value in headers
        if name.lower() != secret_name and (vouched or name.lower() not in identity)
    ]
