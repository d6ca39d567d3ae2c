"""Per-tenant API tokens: service accounts that agents authenticate with (shown once, hashed)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select, update

from domain.base import utcnow
from domain.enums import Role
from domain.models import ApiToken, User
from services import audit
from services.actor import Actor
from services.errors import PermissionDenied
from services.pagination import Page, decode_cursor, encode_cursor
from services.permissions import Action, require
from services.uow import UnitOfWork

ENTITY = "api_token"
TOKEN_PREFIX = "revo"
LAST_USED_EVERY_S = 60.0  # last-used time is written at most this often per token


class Scope(StrEnum):
    REVIEWS_SUBMIT = "reviews:submit"
    REVIEWS_READ = "reviews:read"
    REVIEWS_DECIDE = "reviews:decide"  # only with the tenant's named integration user
    RUNS_READ = "runs:read"
    RUNS_WRITE = "runs:write"
    EVENTS_WRITE = "events:write"
    INVESTIGATIONS_READ = "investigations:read"


class ApiTokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1)
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)
    rate_limit_per_minute: int = Field(default=600, ge=1, le=100_000)

    @field_validator("name")
    @classmethod
    def _clean(cls, value: str) -> str:
        value = value.strip()
        if not value or "\x00" in value:
            raise ValueError("give the token a name")
        return value


class ApiTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str]
    rate_limit_per_minute: int
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(BaseModel):
    """The new token with its secret: shown once, never stored."""

    token: ApiTokenRead
    secret: str


class ApiTokenPage(Page[ApiTokenRead]):
    pass


class TokenIdentity(BaseModel):
    """Who an API call acts as: the token's service account, its scopes and rate limit."""

    model_config = ConfigDict(frozen=True)

    actor: Actor
    token_id: int
    prefix: str  # unique for ever (ids may be reused after a restore); keys per-token state
    scopes: frozenset[str]
    rate_limit_per_minute: int


def _hash(secret: str) -> str:
    # The secret carries 256 random bits: a plain SHA-256 cannot be brute-forced, and it lets
    # every request check its token in microseconds (argon2 is for low-entropy passwords).
    return hashlib.sha256(secret.encode()).hexdigest()


def _read(row: ApiToken) -> ApiTokenRead:
    return ApiTokenRead.model_validate(row)


def create_token(*, actor: Actor, token_in: ApiTokenCreate) -> ApiTokenCreated:
    """Create a token and its service account; the secret is in the answer and nowhere else."""
    require(actor, Action.MANAGE_USERS)
    now = utcnow()
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with UnitOfWork(actor) as uow:
        # The service account cannot sign in (inactive, no identity); it names the token's acts.
        account = User(
            tenant_id=actor.tenant_id,
            email=f"token-{prefix}@api.invalid",
            display_name=f"API token {token_in.name}",
            role=Role.VIEWER,
            is_active=False,
        )
        uow.session.add(account)
        uow.session.flush()
        row = ApiToken(
            tenant_id=actor.tenant_id,
            name=token_in.name,
            prefix=prefix,
            secret_hash=_hash(secret),
            scopes=sorted(s.value for s in token_in.scopes),
            service_user_id=account.id,
            created_by_id=actor.user_id,
            rate_limit_per_minute=token_in.rate_limit_per_minute,
            expires_at=(
                now + timedelta(days=token_in.expires_in_days) if token_in.expires_in_days else None
            ),
            created_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        after = audit.snapshot(row, ["name", "prefix", "scopes", "expires_at"])
        audit.record(
            uow, action="api_token.created", entity_type=ENTITY, entity_id=row.id, after=after
        )
        uow.commit()
        return ApiTokenCreated(token=_read(row), secret=secret)


def list_tokens(*, actor: Actor, cursor: str | None = None, limit: int = 50) -> ApiTokenPage:
    """The tenant's tokens, newest first (never their secrets)."""
    require(actor, Action.MANAGE_USERS)
    limit = max(1, min(limit, 200))
    with UnitOfWork(actor, readonly=True) as uow:
        stmt = select(ApiToken).order_by(ApiToken.id.desc()).limit(limit + 1)
        if cursor:
            (last_id,) = decode_cursor(cursor, arity=1)
            stmt = stmt.where(ApiToken.id < int(last_id))
        rows = list(uow.session.scalars(stmt))
        more = len(rows) > limit
        rows = rows[:limit]
        return ApiTokenPage(
            items=[_read(r) for r in rows],
            next_cursor=encode_cursor([rows[-1].id]) if more and rows else None,
        )


def revoke_token(*, actor: Actor, token_id: int) -> ApiTokenRead:
    """Revoke a token at once; calls with it are refused from now on."""
    require(actor, Action.MANAGE_USERS)
    now = utcnow()
    with UnitOfWork(actor) as uow:
        row = uow.get(ApiToken, token_id, missing=f"There is no API token #{token_id}.")
        if row.revoked_at is None:
            before = audit.snapshot(row, ["revoked_at"])
            row.revoked_at = now
            row.revoked_by_id = actor.user_id
            uow.session.flush()
            audit.record(
                uow,
                action="api_token.revoked",
                entity_type=ENTITY,
                entity_id=row.id,
                before=before,
                after=audit.snapshot(row, ["revoked_at"]),
            )
            uow.commit()
        return _read(row)


class _LastUsed:
    lock = threading.Lock()
    written: dict[str, float] = {}


def _touch(token_id: int, prefix: str, now: datetime) -> None:
    mono = time.monotonic()
    with _LastUsed.lock:
        if mono - _LastUsed.written.get(prefix, -1e9) < LAST_USED_EVERY_S:
            return
        _LastUsed.written[prefix] = mono
    with UnitOfWork(None) as uow:
        uow.session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
        )
        uow.commit()


def authenticate(*, secret: str) -> TokenIdentity:
    """The identity a bearer secret stands for, or PermissionDenied (unknown, revoked, expired)."""
    parts = secret.split("_")
    if len(parts) < 3 or parts[0] != TOKEN_PREFIX or len(secret) > 200:
        raise PermissionDenied("The API token is not valid.")
    now = utcnow()
    with UnitOfWork(None, readonly=True) as uow:
        row = uow.session.scalar(select(ApiToken).where(ApiToken.prefix == parts[1]))
        if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
            raise PermissionDenied("The API token is not valid.")
        if not row.is_usable(now):
            what = "revoked" if row.revoked_at else "expired"
            raise PermissionDenied(f"The API token {row.name!r} was {what}.")
        identity = TokenIdentity(
            actor=Actor(
                user_id=row.service_user_id,
                tenant_id=row.tenant_id,
                role=Role.ADMIN,  # narrowed by scopes at the API and by HUMAN_ONLY in services
                label=f"API token #{row.id} ({row.name})",
                token_id=row.id,
            ),
            token_id=row.id,
            prefix=row.prefix,
            scopes=frozenset(str(s) for s in row.scopes),
            rate_limit_per_minute=row.rate_limit_per_minute,
        )
    _touch(identity.token_id, identity.prefix, now)
    return identity
