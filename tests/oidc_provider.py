"""A small OpenID Connect provider on loopback, for tests: discovery, an authorize endpoint that
approves at once as the configured person, a token endpoint (authorization code with PKCE S256,
client_secret_basic or _post), JWKS and userinfo. ID tokens are signed RS256 with joserfc.

It speaks the real protocol over real HTTP, so Streamlit's st.login (Authlib) runs unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.console import free_port

CLIENT_ID = "revo-console"
CLIENT_SECRET = "test-client-secret-that-is-long-enough"


@dataclass
class Person:
    """Who the provider says signs in next."""

    subject: str
    email: str
    name: str = "Test Person"
    email_verified: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Provider:
    issuer: str
    person: Person
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, {"kid": "test-key"}, private=True)
    )
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, Person] = field(default_factory=dict)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)

    def claims(self, person: Person, nonce: str | None) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": person.subject,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "email": person.email,
            "email_verified": person.email_verified,
            "name": person.name,
            **person.extra,
        }
        if nonce:
            claims["nonce"] = nonce
        return claims

    def id_token(self, person: Person, nonce: str | None) -> str:
        header = {"alg": "RS256", "kid": self.key.kid}
        return jwt.encode(header, self.claims(person, nonce), self.key)


def _discovery(provider: Provider) -> dict[str, Any]:
    base = provider.issuer
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token",
        "jwks_uri": f"{base}/jwks",
        "userinfo_endpoint": f"{base}/userinfo",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email", "profile"],
    }


def _client_ok(request: Request, form: dict[str, str]) -> bool:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("basic "):
        user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        return secrets.compare_digest(user, CLIENT_ID) and secrets.compare_digest(
            password, CLIENT_SECRET
        )
    return form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET


def _app(provider: Provider) -> Starlette:
    async def discovery(_request: Request) -> Response:
        return JSONResponse(_discovery(provider))

    async def authorize(request: Request) -> Response:
        query = dict(request.query_params)
        provider.authorize_requests.append(query)
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {**query, "person": provider.person}
        answer = {"code": code, "state": query.get("state", "")}
        return RedirectResponse(f"{query['redirect_uri']}?{urlencode(answer)}", status_code=302)

    async def token(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        if not _client_ok(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = provider.codes.pop(form.get("code", ""), None)
        if grant is None or grant.get("redirect_uri") != form.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if challenge := grant.get("code_challenge"):
            verifier = form.get("code_verifier", "").encode()
            digest = hashlib.sha256(verifier).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
        access = secrets.token_urlsafe(24)
        provider.tokens[access] = grant["person"]
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": provider.id_token(grant["person"], grant.get("nonce")),
                "scope": grant.get("scope", "openid"),
            },
            headers={"Cache-Control": "no-store"},
        )

    async def jwks(_request: Request) -> Response:
        return JSONResponse({"keys": [provider.key.as_dict(private=False)]})

    async def userinfo(request: Request) -> Response:
        person = provider.tokens.get(request.headers.get("authorization", "")[7:])
        if person is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        claims = provider.claims(person, None)
        return JSONResponse({k: v for k, v in claims.items() if k not in {"aud", "exp", "iat"}})

    return Starlette(
        routes=[
            Route("/.well-known/openid-configuration", discovery),
            Route("/authorize", authorize),
            Route("/token", token, methods=["POST"]),
            Route("/jwks", jwks),
            Route("/userinfo", userinfo),
        ]
    )


@contextmanager
def running_provider(person: Person) -> Iterator[Provider]:
    """Serve the provider on a free loopback port for the duration of the block."""
    port = free_port()
    provider = Provider(issuer=f"http://127.0.0.1:{port}", person=person)
    config = uvicorn.Config(
        _app(provider), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test OIDC provider did not start")
        time.sleep(0.02)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=5)
