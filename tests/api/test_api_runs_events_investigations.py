"""Runs, events and investigations over real HTTP: scopes, cursors and tenant isolation."""

from __future__ import annotations

import httpx

from services.api_tokens import Scope
from services.tenants import TenantWithUsers
from tests import agent_data
from tests.support.api_tokens import bearer, make_token

Tenants = tuple[TenantWithUsers, TenantWithUsers]


def test_enqueue_is_idempotent_and_runs_page_with_cursors(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    north, south = two_tenants
    secret = make_token(north)
    lead_ids = [agent_data.lead(north.tenant.id, email=f"l{i}@x.test") for i in range(3)]
    first = http.post(
        "/api/v1/agents/sdr/run", json={"subject_id": lead_ids[0]}, headers=bearer(secret, "r-1")
    )
    again = http.post(
        "/api/v1/agents/sdr/run", json={"subject_id": lead_ids[0]}, headers=bearer(secret, "r-1")
    )
    assert first.status_code == 202 and first.json()["id"] == again.json()["id"]
    for lead_id in lead_ids[1:]:
        http.post("/api/v1/agents/sdr/run", json={"subject_id": lead_id}, headers=bearer(secret))
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = http.get("/api/v1/runs", params=params, headers=bearer(secret)).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 3 and seen == sorted(seen, reverse=True)
    detail = http.get(f"/api/v1/runs/{seen[0]}", headers=bearer(secret)).json()
    assert detail["run"]["id"] == seen[0] and detail["calls"] == []
    cancelled = http.post(f"/api/v1/runs/{seen[0]}/cancel", headers=bearer(secret))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

    other = make_token(south)
    assert http.get(f"/api/v1/runs/{seen[0]}", headers=bearer(other)).status_code == 404
    assert http.get("/api/v1/runs", headers=bearer(other)).json()["items"] == []
    assert http.post(f"/api/v1/runs/{seen[1]}/cancel", headers=bearer(other)).status_code == 404
    r = http.post("/api/v1/agents/sdr/run", json={"subject_id": lead_ids[1]}, headers=bearer(other))
    assert r.status_code == 404  # north's lead does not exist for south
    assert http.get("/api/v1/runs?cursor=%%%", headers=bearer(secret)).status_code == 422


def test_a_read_only_token_may_not_enqueue(http: httpx.Client, two_tenants: Tenants) -> None:
    north, _ = two_tenants
    secret = make_token(north, scopes=[Scope.RUNS_READ])
    r = http.post("/api/v1/agents/sdr/run", json={"subject_id": 1}, headers=bearer(secret))
    assert r.status_code == 403 and r.json()["required_scope"] == "runs:write"


def test_pushed_events_go_in_and_bad_records_are_quarantined(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    north, south = two_tenants
    secret = make_token(north)
    good = {
        "kind": "deploy",
        "id": "deploy-1",
        "status": "succeeded",
        "service": "checkout",
        "environment": "production",
        "started_at": "2026-11-20T10:00:00Z",
    }
    bad = {"kind": "deploy", "id": "deploy-2", "status": "exploded"}
    body = {"source": "ci", "records": [good, bad]}
    r = http.post("/api/v1/events", json=body, headers=bearer(secret))
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["inserted"], report["quarantined"]) == (1, 1)
    again = http.post(
        "/api/v1/events", json={"source": "ci", "records": [good]}, headers=bearer(secret)
    ).json()
    assert (again["inserted"], again["duplicates"]) == (0, 1)
    south_report = http.post(
        "/api/v1/events",
        json={"source": "ci", "records": [good]},
        headers=bearer(make_token(south)),
    ).json()
    assert south_report["inserted"] == 1  # the same id in another tenant is another event


def test_investigations_search_and_read_stay_in_the_tenant(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    north, south = two_tenants
    inv_id, event_ids = agent_data.investigation_with_events(north.tenant.id)
    secret = make_token(north)
    page = http.get("/api/v1/investigations", headers=bearer(secret)).json()
    assert [i["id"] for i in page["items"]] == [inv_id]
    assert http.get(f"/api/v1/investigations/{inv_id}", headers=bearer(secret)).status_code == 200
    assert http.get(f"/api/v1/events/{event_ids[0]}", headers=bearer(secret)).status_code == 200
    other = make_token(south)
    assert http.get("/api/v1/investigations", headers=bearer(other)).json()["items"] == []
    assert http.get(f"/api/v1/investigations/{inv_id}", headers=bearer(other)).status_code == 404
    assert http.get(f"/api/v1/events/{event_ids[0]}", headers=bearer(other)).status_code == 404
