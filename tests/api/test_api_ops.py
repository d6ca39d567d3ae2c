"""/healthz, /readyz and /metrics at the root of the app."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from services.tenants import TenantWithUsers


@pytest.fixture
def metrics_token(settings: Callable[..., None]) -> str:
    settings(metrics_token="scrape-me")
    return "scrape-me"


def test_healthz_and_readyz_report_each_check(http: httpx.Client, db_url: str) -> None:
    assert http.get("/healthz").json() == {"status": "ok"}
    r = http.get("/readyz")
    assert r.status_code == 200, r.text
    checks = r.json()["checks"]
    assert checks["database"]["status"] == "ok" and "head" in checks["database"]["detail"]
    assert set(checks) == {"database", "worker", "model", "outbox"}
    assert checks["outbox"] == {"status": "ok", "detail": "0 notifications waiting"}


def test_readyz_is_503_when_migrations_are_behind(http: httpx.Client, db_url: str) -> None:
    from services import migrate

    migrate.downgrade(db_url, "-1")
    try:
        r = http.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["database"]["status"] == "failing"
    finally:
        migrate.upgrade(db_url)


def test_metrics_are_off_without_a_token_and_guarded_with_one(
    http: httpx.Client, db_url: str, settings: Callable[..., None]
) -> None:
    assert http.get("/metrics").status_code == 404
    settings(metrics_token="scrape-me")
    assert http.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = http.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert r.status_code == 200
    assert 'revo_review_items{status="pending"}' in r.text
    assert 'revo_notify_outbox{status="dead"} 0.0' in r.text
    assert "revo_api_request_seconds_bucket" in r.text or "revo_agent_runs" in r.text


def test_readyz_says_when_notifications_wait_too_long(
    http: httpx.Client, two_tenants: tuple[TenantWithUsers, TenantWithUsers]
) -> None:
    from datetime import timedelta

    from domain.base import utcnow
    from services.notify import outbox
    from services.uow import UnitOfWork

    with UnitOfWork(None) as uow:
        for n, age in enumerate((timedelta(hours=1), timedelta(0))):
            outbox.enqueue(
                uow.session,
                tenant_id=two_tenants[0].tenant.id,
                dedupe_key=f"ready-{n}",
                event="review.new",
                subject="New item",
                body="A new item waits.",
                now=utcnow() - age,
            )
        uow.commit()
    r = http.get("/readyz")
    assert r.status_code == 200  # late notifications degrade, they do not stop the console
    assert r.json()["checks"]["outbox"] == {
        "status": "degraded",
        "detail": "1 of 2 notifications overdue by more than 15 min",
    }
