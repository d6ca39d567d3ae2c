"""Bearer-token authentication, scopes and the per-token rate limit."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Header

from api.problems import ApiProblem
from services import api_tokens
from services.actor import Actor
from services.api_tokens import Scope, TokenIdentity
from services.errors import PermissionDenied

_BEARER = {"WWW-Authenticate": "Bearer"}


class TokenBuckets:
    """One token bucket per API token: ``rate`` calls a minute, bursts up to ``rate``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, rate: int) -> float | None:
        """None if the call may go ahead, else the seconds until it may."""
        now = time.monotonic()
        per_s = rate / 60.0
        with self._lock:
            level, at = self._buckets.get(key, (float(rate), now))
            level = min(float(rate), level + (now - at) * per_s)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                return None
            self._buckets[key] = (level, now)
            return (1.0 - level) / per_s


BUCKETS = TokenBuckets()


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
    wait = BUCKETS.take(found.prefix, found.rate_limit_per_minute)
    if wait is not None:
        retry = max(1, math.ceil(wait))
        raise ApiProblem(
            429,
            "Too many requests",
            f"This token may make {found.rate_limit_per_minute} calls a minute; retry in "
            f"{retry} s.",
            headers={"Retry-After": str(retry)},
        )
    return found


def scoped(scope: Scope) -> Callable[[str | None], Actor]:
    """A dependency giving the acting service account if the token carries ``scope``.

    One dependency, not two chained ones: each sync dependency is a hop to the thread pool."""

    def dependency(authorization: Annotated[str | None, Header()] = None) -> Actor:
        found = identity(authorization)
        if scope.value not in found.scopes:
            raise ApiProblem(
                403,
                "Not allowed",
                f"This API token lacks the {scope.value} scope.",
                required_scope=scope.value,
            )
        return found.actor

    return dependency
