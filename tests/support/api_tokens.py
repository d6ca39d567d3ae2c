"""API tokens for the HTTP tests, the headers that carry them, and a review item to submit."""

from __future__ import annotations

from domain.enums import Role
from services import api_tokens
from services.api_tokens import ApiTokenCreate, Scope
from services.tenants import TenantWithUsers

ALL_SCOPES = list(Scope)


def make_token(tenant: TenantWithUsers, scopes: list[Scope] | None = None, **kw: object) -> str:
    """A new API token of the tenant's (all scopes unless given): its secret."""
    created = api_tokens.create_token(
        actor=tenant.actor(Role.ADMIN),
        token_in=ApiTokenCreate(name="agent", scopes=scopes or ALL_SCOPES, **kw),  # type: ignore[arg-type]
    )
    return created.secret


def bearer(secret: str, key: str | None = None) -> dict[str, str]:
    """The headers that present the token (and an idempotency key)."""
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
