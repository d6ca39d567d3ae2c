"""The API served by uvicorn on a loopback port in a background thread; tests speak real HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from api import create_app, ops
from domain.enums import Role
from services import api_tokens
from services.api_tokens import ApiTokenCreate, Scope
from services.tenants import TenantWithUsers

ALL_SCOPES = list(Scope)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, app: Starlette) -> None:
        self.port = _free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def server() -> Iterator[LiveServer]:
    """The console's shape: ops routes at the root, the API mounted at /api."""
    app = Starlette(routes=[*ops.routes(), Mount("/api", app=create_app())])
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def make_token(tenant: TenantWithUsers, scopes: list[Scope] | None = None, **kw: object) -> str:
    created = api_tokens.create_token(
        actor=tenant.actor(Role.ADMIN),
        token_in=ApiTokenCreate(name="agent", scopes=scopes or ALL_SCOPES, **kw),  # type: ignore[arg-type]
    )
    return created.secret


def bearer(secret: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {secret}"}
    if key:
        headers["Idempotency-Key"] = key
    return headers


ACTION = {
    "kind": "action",
    "subject": {"type": "github_pr", "id": "acme/web#42", "label": "PR 42"},
    "action": {
        "title": "Merge PR 42",
        "summary": "Bump the API client",
        "data": {"repo": "acme/web", "pr": 42},
        "display": "key_value",
    },
    "amount": 120.0,
    "risk": "medium",
}
