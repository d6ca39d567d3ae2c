"""Bearer-token authentication, scopes, the per-token and per-tenant rate limits, read audits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Header, Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import ApiProblem
from services import api_tokens, api_usage
from services.actor import Actor
from services.api_tokens import Scope as TokenScope
from services.api_tokens import TokenIdentity
from services.errors import PermissionDenied

_BEARER = {"WWW-Authenticate": "Bearer"}
ACTOR_KEY = "revo_token_actor"  # request.state: who the call acts as, for the read audit
# What a read is about: by its id's path parameter, else (a list) by the router's tag.
ENTITY_IDS = {
    "item_id": "review_item",
    "run_id": "agent_run",
    "investigation_id": "investigation",
    "event_id": "event",
}
ENTITIES = {"reviews": "review_item", "runs": "agent_run", "investigations": "investigation"}


def identity(authorization: str | None) -> TokenIdentity:
    """The token identity of a request's Authorization header, or a 401/429 problem."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ApiProblem(
            401, "Not signed in", "Send 'Authorization: Bearer <API token>'.", headers=_BEARER
        )
    try:
        found = api_tokens.authenticate(secret=authorization[7:].strip())
    except PermissionDenied as exc:
        raise ApiProblem(401, "Not signed in", exc.message, headers=_BEARER) from exc
    refused = api_usage.take(identity=found)
    if refused is not None:
        whose = "This token" if refused.over == "token" else "All of this tenant's tokens together"
        raise ApiProblem(
            429,
            "Too many requests",
            f"{whose} may make {refused.limit_per_minute} calls a minute; retry in "
            f"{refused.retry_after_s} s.",
            headers={"Retry-After": str(refused.retry_after_s)},
            limit=refused.over,
        )
    return found


def scoped(scope: TokenScope) -> Callable[..., Actor]:
    """A dependency giving the acting service account if the token carries ``scope``.

    One dependency, not two chained ones: each sync dependency is a hop to the thread pool."""

    def dependency(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Actor:
        found = identity(authorization)
        if scope.value not in found.scopes:
            raise ApiProblem(
                403,
                "Not allowed",
                f"This API token lacks the {scope.value} scope.",
                required_scope=scope.value,
            )
        setattr(request.state, ACTOR_KEY, found.actor)
        return found.actor

    return dependency


class ReadAudit:
    """Pure ASGI middleware: when a token's GET is answered, audit what it read.

    Writes are audited by the services that make them; reads change nothing, so they are
    recorded here, just before the answer's status line goes out (once the client holds the
    answer, the entry is there)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                await _record(scope, int(message["status"]))
            await send(message)

        await self.app(scope, receive, sending)


async def _record(scope: Scope, status: int) -> None:
    actor = scope.get("state", {}).get(ACTOR_KEY)
    route = scope.get("route")
    if not isinstance(actor, Actor) or route is None:
        return  # no token got through (401/403 before the actor was known): nothing was read
    tags = getattr(route, "tags", None) or [""]
    entity_type, entity_id = ENTITIES.get(str(tags[0]), "api"), None
    for name, value in scope.get("path_params", {}).items():
        if name in ENTITY_IDS:
            entity_type = ENTITY_IDS[name]
            digits = str(value)
            entity_id = int(digits) if digits.isdigit() and len(digits) < 19 else None
    await run_in_threadpool(
        api_usage.record_read,
        actor=actor,
        route=f"GET {getattr(route, 'path', '?')}",
        status=status,
        entity_type=entity_type,
        entity_id=entity_id,
    )
