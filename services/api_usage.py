"""What API tokens use: rate limits per token and per tenant, and the audit of their reads.

Rate limits hold across console replicas. On PostgreSQL (the scale-out engine, several replicas)
every call adds one to a per-minute counter row for its token and one for its tenant, in one
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` in its own short transaction, so every replica
counts against the same numbers. On SQLite the architecture has exactly one console process,
so an in-process token bucket is exact there and spares each read a turn at the database's
single write lock.
"""

from __future__ import annotations

import threading
import time
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert

from domain.models import ApiRateWindow
from services import audit, db
from services.actor import Actor
from services.api_tokens import TokenIdentity
from services.config import get_settings
from services.errors import PermissionDenied
from services.uow import UnitOfWork

WINDOW_S = 60


class RateRefusal(BaseModel):
    """Why a call is refused: whose limit it went over, the limit, and when to retry."""

    over: Literal["token", "tenant"]
    limit_per_minute: int
    retry_after_s: int


class _Buckets:
    """Token buckets in this process: ``rate`` calls a minute, bursts up to ``rate``."""

    lock = threading.Lock()
    levels: dict[str, tuple[float, float]] = {}

    @classmethod
    def take(cls, keys: list[tuple[str, int]]) -> tuple[int, float] | None:
        """None if every bucket had a call left (then each gave one), else (index, wait s)."""
        now = time.monotonic()
        with cls.lock:
            found = []
            for key, rate in keys:
                level, at = cls.levels.get(key, (float(rate), now))
                found.append(min(float(rate), level + (now - at) * rate / WINDOW_S))
            for index, ((_key, rate), level) in enumerate(zip(keys, found, strict=True)):
                if level < 1.0:
                    for (k, _r), lv in zip(keys, found, strict=True):
                        cls.levels[k] = (lv, now)
                    return index, (1.0 - level) * WINDOW_S / rate
            for (key, _rate), level in zip(keys, found, strict=True):
                cls.levels[key] = (level - 1.0, now)
            return None


def _shared(keys: list[tuple[str, int]]) -> tuple[int, float] | None:
    now = time.time()
    minute = int(now // WINDOW_S)
    rows = [{"bucket": key, "minute": minute, "hits": 1} for key, _rate in keys]
    upsert = insert(ApiRateWindow).values(rows)
    stmt = upsert.on_conflict_do_update(
        index_elements=["bucket", "minute"],
        set_={"hits": ApiRateWindow.hits + upsert.excluded.hits},
    ).returning(ApiRateWindow.bucket, ApiRateWindow.hits)
    # The token's row before the tenant's, always: concurrent calls lock rows in one order.
    with db.current_engine().begin() as conn:
        hits: dict[str, int] = {bucket: n for bucket, n in conn.execute(stmt).all()}
        if any(h == 1 for h in hits.values()):  # a new minute: forget the ones before the last
            conn.execute(delete(ApiRateWindow).where(ApiRateWindow.minute < minute - 1))
    for index, (key, rate) in enumerate(keys):
        if hits.get(key, 0) > rate:
            return index, (minute + 1) * WINDOW_S - now
    return None


def take(*, identity: TokenIdentity) -> RateRefusal | None:
    """Count one call of the token; a RateRefusal if it is over its or its tenant's limit."""
    tenant_rate = get_settings().api_tenant_rate_per_minute
    engine = db.current_engine()
    if engine.dialect.name == "postgresql":
        keys = [(f"t:{identity.prefix}", identity.rate_limit_per_minute)]
        keys.append((f"n:{identity.actor.tenant_id}", tenant_rate))
        over = _shared(keys)
    else:
        # Keyed by database too: tenant ids repeat between databases (tests, restores).
        where = str(engine.url)
        over = _Buckets.take(
            [
                (f"{where}|t:{identity.prefix}", identity.rate_limit_per_minute),
                (f"{where}|n:{identity.actor.tenant_id}", tenant_rate),
            ]
        )
    if over is None:
        return None
    index, wait = over
    return RateRefusal(
        over="token" if index == 0 else "tenant",
        limit_per_minute=identity.rate_limit_per_minute if index == 0 else tenant_rate,
        retry_after_s=max(1, int(wait + 0.999)),
    )


def record_read(
    *,
    actor: Actor,
    route: str,
    status: int,
    entity_type: str,
    entity_id: int | None,
) -> None:
    """Audit one read an API token made (what it asked for and what it was answered)."""
    if actor.token_id is None:
        raise PermissionDenied("Only API tokens' reads are recorded this way.")
    with UnitOfWork(actor) as uow:
        audit.record(
            uow,
            action="api.read",
            entity_type=entity_type,
            entity_id=entity_id,
            after={"route": route, "status": status, "token_id": actor.token_id},
        )
        uow.commit()
