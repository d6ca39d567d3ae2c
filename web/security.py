"""Security headers on every HTTP response of the console (pure ASGI, so the WebSocket passes).

The Content-Security-Policy allows exactly what Streamlit's frontend needs: its own scripts (plus
the one inline script of its index.html, by hash), inline styles (emotion injects them), data/blob
images and fonts, and same-origin fetches and WebSockets. Nothing may frame the console.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

import streamlit
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
HSTS = "max-age=31536000; includeSubDomains"


@lru_cache(maxsize=1)
def _index_script_hashes() -> tuple[str, ...]:
    """CSP hashes of the inline scripts in the Streamlit frontend's index.html."""
    index = Path(streamlit.__file__).parent / "static" / "index.html"
    try:
        html = index.read_text(encoding="utf-8")
    except OSError:
        return ()
    hashes = []
    for body in _INLINE_SCRIPT.findall(html):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return tuple(hashes)


@lru_cache(maxsize=8)
def content_security_policy(extra_form_action: tuple[str, ...] = ()) -> str:
    """The console's CSP header value."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *_index_script_hashes()],
        "style-src": ["'self'", "'unsafe-inline'"],
        # No outside host: the page icon is an inlined emoji, the fonts are bundled.
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "media-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", *extra_form_action],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class SecurityHeadersMiddleware:
    """Adds CSP, frame, referrer and content-type headers; HSTS when the request came over https."""

    def __init__(self, app: ASGIApp, *, form_action: tuple[str, ...] = ()) -> None:
        self.app = app
        self.csp = content_security_policy(form_action)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", self.csp)
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
