"""Where a sign-in returns to: a path (and query) of this console, never anything that leaves it.

Single sign-on leaves the console for the identity provider, and Streamlit's ``/oauth2callback``
always sends the browser home afterwards. The page the person had asked for is kept meanwhile in
a short-lived cookie whose value is sealed here: the path, an expiry and an HMAC keyed by the
OIDC cookie secret, so a value the console did not write (or wrote long ago) is worth nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from urllib.parse import urlsplit

from services.config import get_settings

RETURN_COOKIE = "revo_return_to"
RETURN_TTL_S = 600  # ten minutes to get through the provider's sign-in page
MAX_TARGET = 2048
# Paths that are no page: Streamlit's and the console's own routes.
_NOT_PAGES = ("/auth/", "/api/", "/_stcore/", "/oauth2callback", "/static/", "/media/")


def local_target(value: object) -> str | None:
    """``value`` if it is a path (and query) of this console, else None. Nothing that could leave
    the origin is accepted: no scheme or host, no ``//`` or ``/\\`` prefix, no backslash, no
    control, space or non-ASCII character (so no CRLF header injection), nothing over 2 KiB."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_TARGET:
        return None
    if value.startswith(("//", "/\\")) or any(not 0x20 < ord(c) < 0x7F or c == "\\" for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.fragment:
        return None
    path = parts.path
    if any(path == p.rstrip("/") or path.startswith(p) for p in _NOT_PAGES):
        return None
    return value


def _key() -> bytes:
    secret = get_settings().oidc_cookie_secret
    material = secret.get_secret_value() if secret is not None else ""
    return hashlib.sha256(b"revo-return-path\x00" + material.encode()).digest()


def _mac(body: bytes) -> str:
    digest = hmac.new(_key(), body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def seal_return_path(*, path: str, now: float | None = None) -> str | None:
    """The cookie value that brings a sign-in back to ``path``, or None when ``path`` is not a
    page of this console (or is home, where Streamlit returns anyway)."""
    target = local_target(path)
    if target is None or target == "/" or get_settings().oidc_cookie_secret is None:
        return None
    expires = int((time.time() if now is None else now) + RETURN_TTL_S)
    body = f"{expires}:{target}".encode()
    return f"{base64.urlsafe_b64encode(body).decode().rstrip('=')}.{_mac(body)}"


def open_return_path(*, sealed: str, now: float | None = None) -> str | None:
    """The path a sealed value carries, or None when it is forged, altered, expired or unsafe."""
    if not isinstance(sealed, str) or len(sealed) > 4 * MAX_TARGET or sealed.count(".") != 1:
        return None
    encoded, mac = sealed.split(".")
    try:
        body = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return None
    if get_settings().oidc_cookie_secret is None or not hmac.compare_digest(mac, _mac(body)):
        return None
    expires, _, target = body.decode("ascii", "replace").partition(":")
    if not expires.isdigit() or int(expires) < (time.time() if now is None else now):
        return None
    return local_target(target)
