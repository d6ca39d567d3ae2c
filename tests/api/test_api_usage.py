"""What tokens use: reads are audited with the token's id; limits per token and per tenant."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import text

from domain.enums import Role
from services import audit, db
from services.tenants import TenantWithUsers
from tests.support.api_tokens import ACTION, bearer, make_token

Tenants = tuple[TenantWithUsers, TenantWithUsers]


@pytest.fixture
def tenant_limit(settings: Callable[..., None]) -> int:
    settings(api_tenant_rate_per_minute=4)
    return 4


def test_a_tokens_reads_are_audited_with_its_id_route_and_answer(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    north, south = two_tenants
    secret = make_token(north)
    item = http.post("/api/v1/reviews", json=ACTION, headers=bearer(secret, "r1")).json()
    assert http.get(f"/api/v1/reviews/{item['id']}", headers=bearer(secret)).status_code == 200
    assert http.get("/api/v1/runs", headers=bearer(secret)).status_code == 200
    # Another tenant's token probing the id is recorded in its own tenant, as a 404.
    south_secret = make_token(south)
    probed = http.get(f"/api/v1/reviews/{item['id']}", headers=bearer(south_secret))
    assert probed.status_code == 404

    def reads(tenant: TenantWithUsers) -> list[audit.AuditEntryRead]:
        trail = audit.list_for_entity(
            actor=tenant.actor(Role.ADMIN), entity_type="review_item", entity_id=item["id"]
        )
        return [e for e in trail if e.action == "api.read"]

    (read,) = reads(north)
    assert read.actor_label.startswith("API token #")
    assert read.after is not None
    assert read.after["route"] == "GET /v1/reviews/{item_id}" and read.after["status"] == 200
    assert isinstance(read.after["token_id"], int)
    (probe,) = reads(south)
    assert probe.after is not None and probe.after["status"] == 404


def test_the_tenant_limit_holds_over_all_of_its_tokens(
    http: httpx.Client, two_tenants: Tenants, tenant_limit: int
) -> None:
    north, south = two_tenants
    first, second = make_token(north), make_token(north)
    codes = [
        http.get("/api/v1/reviews/999999", headers=bearer(secret)).status_code
        for secret in (first, second, first, second, second)
    ]
    assert codes == [404, 404, 404, 404, 429]
    refused = http.get("/api/v1/reviews/999999", headers=bearer(first))
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["limit"] == "tenant" and "tenant's tokens" in refused.json()["detail"]
    # Another tenant has its own allowance.
    assert http.get("/api/v1/reviews/999999", headers=bearer(make_token(south))).status_code == 404


@pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_on_postgres_calls_through_other_replicas_count_against_the_same_limit(
    http: httpx.Client, two_tenants: Tenants, db_url: str
) -> None:
    north, _ = two_tenants
    secret = make_token(north, rate_limit_per_minute=5)
    prefix = secret.split("_")[1]
    assert http.get("/api/v1/reviews/999999", headers=bearer(secret)).status_code == 404
    minute = int(time.time() // 60)
    with db.current_engine().begin() as conn:
        (hits,) = conn.execute(
            text("SELECT hits FROM api_rate_windows WHERE bucket = :b AND minute = :m"),
            {"b": f"t:{prefix}", "m": minute},
        ).one()
        assert hits == 1  # the count is in the database, where every replica sees it
        # Another replica answered four more calls of this token in this minute (and the next,
        # should the minute turn during the test).
        conn.execute(
            text(
                "INSERT INTO api_rate_windows (bucket, minute, hits) VALUES (:b, :m, 5), "
                "(:b, :m1, 5) ON CONFLICT (bucket, minute) DO UPDATE SET hits = 5"
            ),
            {"b": f"t:{prefix}", "m": minute, "m1": minute + 1},
        )
    refused = http.get("/api/v1/reviews/999999", headers=bearer(secret))
    assert refused.status_code == 429 and refused.json()["limit"] == "token"
    assert 1 <= int(refused.headers["retry-after"]) <= 120
