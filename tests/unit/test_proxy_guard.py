"""Proxy mode's identity headers: kept only with the proxy's shared secret; settings refuse a
production proxy mode without one, and a weak one anywhere."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError

from services.config import Settings
from web.proxy_guard import _vetted

SECRET = "s" * 16 + "0123456789abcdef"
EMAIL = (b"x-forwarded-email", b"admin@acme.test")
USER = (b"x-forwarded-user", b"admin")
OTHER = (b"accept", b"*/*")


@pytest.fixture
def proxy(settings: Callable[..., None]) -> Callable[..., None]:
    settings(auth_mode="proxy", proxy_shared_secret=SECRET)
    return settings


def test_identity_headers_stay_only_with_the_secret(proxy: Callable[..., None]) -> None:
    vouched = _vetted([EMAIL, USER, OTHER, (b"X-Revo-Proxy-Secret", SECRET.encode())])
    assert vouched == [EMAIL, USER, OTHER]  # the secret itself never reaches the app
    assert _vetted([EMAIL, USER, OTHER]) == [OTHER]
    assert _vetted([EMAIL, OTHER, (b"x-revo-proxy-secret", b"guess")]) == [OTHER]
    twice = [EMAIL, (b"x-revo-proxy-secret", SECRET.encode()), (b"x-revo-proxy-secret", b"x")]
    assert _vetted(twice) == []
    assert _vetted([EMAIL, (b"x-revo-proxy-secret", b"\xff\xfe")]) == []


def test_without_a_shared_secret_the_network_must_vouch(proxy: Callable[..., None]) -> None:
    proxy(proxy_shared_secret=None)
    assert _vetted([EMAIL, OTHER]) == [EMAIL, OTHER]


def test_settings_refuse_a_weak_secret_and_production_without_one(
    proxy: Callable[..., None],
) -> None:
    proxy(proxy_shared_secret="short")
    with pytest.raises(ValidationError, match="REVO_PROXY_SHARED_SECRET must be at least 32"):
        Settings()
    proxy(proxy_shared_secret=None, env="production", secret_key="k" * 40)
    with pytest.raises(ValidationError, match="needs REVO_PROXY_SHARED_SECRET in production"):
        Settings()
    proxy(proxy_shared_secret=SECRET)
    assert Settings().proxy_shared_secret is not None
