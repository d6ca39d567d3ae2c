"""Proxy mode's identity headers: kept only with the proxy's shared secret; settings refuse a
production proxy mode without one, and a weak one anywhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from services.config import Settings, get_settings
from web.proxy_guard import _vetted

SECRET = "s" * 16 + "0123456789abcdef"
EMAIL = (b"x-forwarded-email", b"admin@acme.test")
USER = (b"x-forwarded-user", b"admin")
OTHER = (b"accept", b"*/*")


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("REVO_AUTH_MODE", "proxy")
    monkeypatch.setenv("REVO_PROXY_SHARED_SECRET", SECRET)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_identity_headers_stay_only_with_the_secret(proxy: pytest.MonkeyPatch) -> None:
    vouched = _vetted([EMAIL, USER, OTHER, (b"X-Revo-Proxy-Secret", SECRET.encode())])
    assert vouched == [EMAIL, USER, OTHER]  # the secret itself never reaches the app
    assert _vetted([EMAIL, USER, OTHER]) == [OTHER]
    assert _vetted([EMAIL, OTHER, (b"x-revo-proxy-secret", b"guess")]) == [OTHER]
    twice = [EMAIL, (b"x-revo-proxy-secret", SECRET.encode()), (b"x-revo-proxy-secret", b"x")]
    assert _vetted(twice) == []
    assert _vetted([EMAIL, (b"x-revo-proxy-secret", b"\xff\xfe")]) == []


def test_without_a_shared_secret_the_network_must_vouch(proxy: pytest.MonkeyPatch) -> None:
    proxy.delenv("REVO_PROXY_SHARED_SECRET")
    get_settings.cache_clear()
    assert _vetted([EMAIL, OTHER]) == [EMAIL, OTHER]


def test_settings_refuse_a_weak_secret_and_production_without_one(
    proxy: pytest.MonkeyPatch,
) -> None:
    proxy.setenv("REVO_PROXY_SHARED_SECRET", "short")
    with pytest.raises(ValidationError, match="REVO_PROXY_SHARED_SECRET must be at least 32"):
        Settings()
    proxy.delenv("REVO_PROXY_SHARED_SECRET")
    proxy.setenv("REVO_ENV", "production")
    proxy.setenv("REVO_SECRET_KEY", "k" * 40)
    with pytest.raises(ValidationError, match="needs REVO_PROXY_SHARED_SECRET in production"):
        Settings()
    proxy.setenv("REVO_PROXY_SHARED_SECRET", SECRET)
    assert Settings().proxy_shared_secret is not None
