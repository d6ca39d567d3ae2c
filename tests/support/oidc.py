"""The OpenID Connect settings the sign-in tests configure (an issuer nobody calls)."""

from __future__ import annotations

ISSUER = "https://idp.example.test"
OIDC = {
    "oidc_client_id": "revo",
    "oidc_client_secret": "client-secret",
    "oidc_metadata_url": f"{ISSUER}/.well-known/openid-configuration",
    "oidc_redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "oidc_cookie_secret": "c" * 40,
}
