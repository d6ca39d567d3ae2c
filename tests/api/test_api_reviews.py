"""The agent gateway over real HTTP: auth, scopes, problem+json, idempotency, long-polling."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine, text

from domain.enums import ReasonCode, Role
from services import api_tokens, audit, db
from services import review as reviews
from services.errors import PermissionDenied
from services.review import replica_signals, signals
from services.tenants import TenantWithUsers
from tests.support.api_tokens import ACTION, bearer, make_token

Tenants = tuple[TenantWithUsers, TenantWithUsers]
PROBLEM = "application/problem+json"


def _submit(http: httpx.Client, secret: str, key: str, body: dict | None = None) -> httpx.Response:
    return http.post("/api/v1/reviews", json=body or ACTION, headers=bearer(secret, key))


def test_missing_bad_and_revoked_tokens_get_401_problems(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    north, _ = two_tenants
    r = http.post("/api/v1/reviews", json=ACTION, headers={"Idempotency-Key": "k"})
    assert r.status_code == 401 and r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"] == "Bearer"
    assert _submit(http, "revo_nope_nope", "k").status_code == 401
    secret = make_token(north)
    token_id = api_tokens.list_tokens(actor=north.actor(Role.ADMIN)).items[0].id
    assert _submit(http, secret, "k1").status_code == 201
    api_tokens.revoke_token(actor=north.actor(Role.ADMIN), token_id=token_id)
    r = _submit(http, secret, "k2")
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_a_token_without_the_scope_gets_403_naming_it(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    secret = make_token(two_tenants[0], scopes=[api_tokens.Scope.REVIEWS_READ])
    r = _submit(http, secret, "k")
    assert r.status_code == 403
    assert r.json()["required_scope"] == "reviews:submit"


def test_same_idempotency_key_returns_the_same_item_and_a_different_body_conflicts(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    secret = make_token(two_tenants[0])
    first = _submit(http, secret, "deploy-1")
    again = _submit(http, secret, "deploy-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = _submit(http, secret, "deploy-1", {**ACTION, "amount": 5.0})
    assert other.status_code == 409 and other.headers["content-type"] == PROBLEM
    assert "already used" in other.json()["detail"]
    listed = reviews.list_queue(actor=two_tenants[0].actor(Role.ADMIN))
    assert [row.id for row in listed.items] == [first.json()["id"]]


def test_concurrent_retries_with_one_key_make_one_item(
    http: httpx.Client, server: object, two_tenants: Tenants
) -> None:
    secret = make_token(two_tenants[0])
    answers: list[httpx.Response] = []

    def go() -> None:
        with httpx.Client(base_url=http.base_url, timeout=30) as c:
            answers.append(_submit(c, secret, "race"))

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["id"] for a in answers}) == 1


def test_another_tenants_token_sees_nothing_of_an_item(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    north, south = two_tenants
    item = _submit(http, make_token(north), "n1").json()
    south_secret = make_token(south)
    r = http.get(f"/api/v1/reviews/{item['id']}", headers=bearer(south_secret))
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    r = http.get(f"/api/v1/reviews/{item['id']}?wait=1", headers=bearer(south_secret))
    assert r.status_code == 404
    r = http.post(
        f"/api/v1/reviews/{item['id']}/execution",
        json={"outcome": "executed"},
        headers=bearer(south_secret),
    )
    assert r.status_code == 404
    # The same key in another tenant is another tenant's business.
    assert _submit(http, south_secret, "n1").status_code == 201


@pytest.fixture
def slow_reread(settings: Callable[..., None]) -> float:
    """Waiters re-read the database only every 60 s: only the in-process wake-up is fast."""
    settings(api_wait_reread_s=60)
    return 60.0


def _until_waiting(item_id: int, waiter: threading.Thread) -> None:
    """Block until the server has subscribed the long-poll to the item (a barrier, not a nap)."""
    deadline = time.monotonic() + 10
    while not signals.subscribed(item_id):
        assert waiter.is_alive() and time.monotonic() < deadline, "the long-poll never waited"
        time.sleep(0.005)


def _long_poll(
    http: httpx.Client, secret: str, item_id: int, *, wait: int
) -> tuple[threading.Thread, dict[str, object]]:
    """A client long-polling the item in a thread, once the server has subscribed it; the
    answer (status, body, monotonic arrival time) fills in when it returns."""
    answer: dict[str, object] = {}

    def poll() -> None:
        r = http.get(f"/api/v1/reviews/{item_id}?wait={wait}", headers=bearer(secret))
        answer.update(status=r.status_code, body=r.json(), at=time.monotonic())

    waiter = threading.Thread(target=poll)
    waiter.start()
    _until_waiting(item_id, waiter)
    return waiter, answer


def test_long_poll_wakes_at_once_when_a_reviewer_approves_with_the_edited_payload(
    http: httpx.Client, two_tenants: Tenants, slow_reread: float
) -> None:
    north, _ = two_tenants
    secret = make_token(north)
    item = _submit(http, secret, "wait-1").json()
    waiter, answer = _long_poll(http, secret, item["id"], wait=20)
    assert "status" not in answer  # still waiting: nothing decided yet
    edited = {**item["payload"], "summary": "Bump the API client (reviewed)"}
    decided_at = time.monotonic()
    reviews.edit_and_approve(
        actor=north.actor(Role.REVIEWER),
        item_id=item["id"],
        seen_version=item["row_version"],
        edited_payload=edited,
    )
    waiter.join(timeout=30)
    assert answer["status"] == 200
    body = answer["body"]
    assert isinstance(body, dict)
    # Without the wake-up the answer comes only when the 20 s wait ends (the next re-read is
    # 60 s away), so the bound fails if the signal is lost (checked by breaking it).
    assert body["status"] == "approved" and body["edited"] is True
    assert float(answer["at"]) - decided_at < 1.0  # type: ignore[arg-type]
    assert body["payload"]["summary"] == "Bump the API client (reviewed)"
    assert body["decided_by"] == "Reviewer North"


def test_a_waiter_still_sees_a_decision_made_by_another_process_on_its_reread(
    http: httpx.Client, two_tenants: Tenants, settings: Callable[..., None]
) -> None:
    settings(api_wait_reread_s=0.2)
    north, _ = two_tenants
    secret = make_token(north)
    item = _submit(http, secret, "wait-x").json()
    waiter, answer = _long_poll(http, secret, item["id"], wait=20)
    # Another replica's commit: a plain UPDATE from a session no in-process signal watches.
    with db.current_engine().begin() as conn:
        conn.execute(
            text("UPDATE review_items SET status = 'approved' WHERE id = :id"), {"id": item["id"]}
        )
    changed_at = time.monotonic()
    waiter.join(timeout=30)
    assert answer["body"]["status"] == "approved"  # type: ignore[index]
    assert float(answer["at"]) - changed_at < 1.5  # type: ignore[arg-type]


def test_long_poll_reports_a_rejection_with_reason_and_comment(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    north, _ = two_tenants
    secret = make_token(north)
    item = _submit(http, secret, "wait-2").json()
    threading.Timer(
        0.3,
        lambda: reviews.reject(
            actor=north.actor(Role.ADMIN),
            item_id=item["id"],
            seen_version=item["row_version"],
            reason_code=ReasonCode.POLICY,
            comment="Not on a Friday",
        ),
    ).start()
    body = http.get(f"/api/v1/reviews/{item['id']}?wait=20", headers=bearer(secret)).json()
    assert (body["status"], body["reason_code"], body["comment"]) == (
        "rejected",
        "policy",
        "Not on a Friday",
    )


def test_plain_get_and_an_elapsed_wait_return_the_pending_state(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    secret = make_token(two_tenants[0])
    item = _submit(http, secret, "w3").json()
    assert (
        http.get(f"/api/v1/reviews/{item['id']}", headers=bearer(secret)).json()["status"]
        == "pending"
    )
    started = time.monotonic()
    r = http.get(f"/api/v1/reviews/{item['id']}?wait=0.4", headers=bearer(secret))
    assert r.json()["status"] == "pending" and time.monotonic() - started >= 0.4


def test_agent_reports_execution_and_the_audit_names_the_token(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    north, _ = two_tenants
    secret = make_token(north)
    item = _submit(http, secret, "exec-1").json()
    url = f"/api/v1/reviews/{item['id']}/execution"
    early = http.post(url, json={"outcome": "executed"}, headers=bearer(secret))
    assert early.status_code == 409  # pending: not approved yet
    result = reviews.approve(
        actor=north.actor(Role.REVIEWER), item_id=item["id"], seen_version=item["row_version"]
    )
    assert result.item.status.value == "approved"  # the console does not carry it out itself
    done = http.post(url, json={"outcome": "executed", "detail": "merged"}, headers=bearer(secret))
    assert done.status_code == 200 and done.json()["status"] == "executed"
    assert http.post(url, json={"outcome": "executed"}, headers=bearer(secret)).status_code == 200
    trail = audit.list_for_entity(
        actor=north.actor(Role.ADMIN), entity_type="review_item", entity_id=item["id"]
    )
    by_token = [e for e in trail if e.actor_label.startswith("API token #")]
    assert [e.action for e in by_token] == ["review.submitted", "review.executed"]


def test_a_token_actor_may_never_decide_even_with_an_admin_role(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    north, _ = two_tenants
    secret = make_token(north)
    item = _submit(http, secret, "d1").json()
    token_actor = api_tokens.authenticate(secret=secret).actor
    with pytest.raises(PermissionDenied):
        reviews.approve(actor=token_actor, item_id=item["id"], seen_version=item["row_version"])


def test_rate_limit_answers_429_with_retry_after(http: httpx.Client, two_tenants: Tenants) -> None:
    secret = make_token(two_tenants[0], rate_limit_per_minute=3)
    codes = [
        http.get("/api/v1/reviews/999999", headers=bearer(secret)).status_code for _ in range(4)
    ]
    assert codes == [404, 404, 404, 429]
    r = http.get("/api/v1/reviews/999999", headers=bearer(secret))
    assert r.headers["content-type"] == PROBLEM
    assert int(r.headers["retry-after"]) >= 1


def test_api_decisions_are_refused_until_the_tenant_names_an_integration_user(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    from services import api_decisions

    north, _ = two_tenants
    secret = make_token(north)
    item = _submit(http, secret, "dec-1").json()
    body = {"decision": "approve", "seen_version": item["row_version"]}
    url = f"/api/v1/reviews/{item['id']}/decision"
    refused = http.post(url, json=body, headers=bearer(secret))
    assert refused.status_code == 403 and "person's act" in refused.json()["detail"]
    api_decisions.set_integration_user(
        actor=north.actor(Role.ADMIN), user_id=north.users[Role.REVIEWER].id
    )
    done = http.post(url, json=body, headers=bearer(secret))
    assert done.status_code == 200 and done.json()["status"] == "approved"
    trail = audit.list_for_entity(
        actor=north.actor(Role.ADMIN), entity_type="review_item", entity_id=item["id"]
    )
    approved = next(e for e in trail if e.action == "review.approved")
    assert approved.actor_id == north.users[Role.REVIEWER].id
    assert "via API token #" in approved.actor_label


ON_POSTGRES = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@ON_POSTGRES
def test_on_postgres_a_decision_committed_by_another_replica_wakes_the_waiter_at_once(
    http: httpx.Client, two_tenants: Tenants, slow_reread: float, db_url: str
) -> None:
    north, _ = two_tenants
    secret = make_token(north)
    item = _submit(http, secret, "replica-1").json()
    waiter, answer = _long_poll(http, secret, item["id"], wait=20)
    deadline = time.monotonic() + 10
    while not replica_signals.listening(db.current_engine()):
        assert time.monotonic() < deadline, "the replica listener never listened"
        time.sleep(0.005)
    # Another replica's transaction, as its session sends it: the change and its NOTIFY.
    other = create_engine(db_url)
    with other.begin() as conn:
        conn.execute(
            text("UPDATE review_items SET status = 'approved' WHERE id = :id"), {"id": item["id"]}
        )
        conn.execute(
            text("SELECT pg_notify(:channel, :ids)"),
            {"channel": replica_signals.CHANNEL, "ids": str(item["id"])},
        )
    changed_at = time.monotonic()
    other.dispose()
    waiter.join(timeout=30)
    assert answer["body"]["status"] == "approved"  # type: ignore[index]
    assert float(answer["at"]) - changed_at < 1.0  # type: ignore[arg-type]


@ON_POSTGRES
def test_on_postgres_a_review_decision_notifies_the_other_replicas_when_it_commits(
    http: httpx.Client, two_tenants: Tenants, db_url: str
) -> None:
    north, _ = two_tenants
    item = _submit(http, make_token(north), "replica-2").json()
    conninfo = db_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as listener:
        listener.execute(f"LISTEN {replica_signals.CHANNEL}")
        reviews.approve(
            actor=north.actor(Role.REVIEWER), item_id=item["id"], seen_version=item["row_version"]
        )
        notes = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
    assert str(item["id"]) in notes[0].split(",")


def test_the_review_list_pages_with_a_cursor_filters_and_keeps_to_its_tenant(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    north, south = two_tenants
    secret = make_token(north)
    made = []
    for n in range(3):
        body = {**ACTION, "subject": {**ACTION["subject"], "id": f"acme/web#{n}"}}  # type: ignore[dict-item]
        made.append(_submit(http, secret, f"list-{n}", body).json()["id"])
    first = http.get("/api/v1/reviews", params={"limit": 2}, headers=bearer(secret))
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 2 and page["next_cursor"] and page["total"] == 3
    rest = http.get(
        "/api/v1/reviews",
        params={"limit": 2, "cursor": page["next_cursor"]},
        headers=bearer(secret),
    ).json()
    assert sorted(i["id"] for i in page["items"] + rest["items"]) == sorted(made)
    assert rest["next_cursor"] is None

    reviews.reject(
        actor=north.actor(Role.ADMIN),
        item_id=made[0],
        seen_version=1,
        reason_code=ReasonCode.DUPLICATE,
    )
    rejected = http.get("/api/v1/reviews", params={"status": "rejected"}, headers=bearer(secret))
    assert [i["id"] for i in rejected.json()["items"]] == [made[0]]
    searched = http.get("/api/v1/reviews", params={"search": "pr 42"}, headers=bearer(secret))
    assert sorted(i["id"] for i in searched.json()["items"]) == sorted(made[1:])
    nothing = http.get("/api/v1/reviews", params={"search": "zqxjv"}, headers=bearer(secret))
    assert nothing.json()["items"] == []

    other = http.get("/api/v1/reviews", headers=bearer(make_token(south))).json()
    assert other["items"] == [] and other["total"] == 0
    bad = http.get("/api/v1/reviews", params={"cursor": "not-a-cursor"}, headers=bearer(secret))
    assert bad.status_code in {400, 422} and bad.headers["content-type"] == PROBLEM
    unscoped = make_token(north, scopes=[api_tokens.Scope.REVIEWS_SUBMIT])
    assert http.get("/api/v1/reviews", headers=bearer(unscoped)).status_code == 403


@pytest.mark.usefixtures("demo_auth", "loopback")
def test_a_reviewer_approving_on_the_console_page_wakes_the_waiting_agent(
    http: httpx.Client, two_tenants: Tenants, slow_reread: float
) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.support import apptest as ui
    from tests.support.apptest import APP

    north, _ = two_tenants
    secret = make_token(north)
    item = _submit(http, secret, "wait-page").json()
    app = ui.open_page(
        AppTest.from_file(APP, default_timeout=30),
        north.users[Role.REVIEWER].id,
        "pages/review_queue.py",
    )
    next(s for s in app.selectbox if s.label == "Open item").set_value(item["id"]).run()
    assert not app.exception, app.exception

    waiter, answer = _long_poll(http, secret, item["id"], wait=30)
    decided_at = time.monotonic()
    next(b for b in app.button if b.label == "Approve").click().run()
    assert not app.exception, app.exception
    waiter.join(timeout=40)
    body = answer["body"]
    assert answer["status"] == 200 and isinstance(body, dict)
    assert body["status"] in {"approved", "executed"} and body["decided_by"] == "Reviewer North"
    # Lost, the wake-up would leave it waiting 30 s (the re-read is 60 s away): 5 s is roomy.
    assert float(answer["at"]) - decided_at < 5.0  # type: ignore[arg-type]


def test_a_decision_is_posted_to_the_agent_s_callback_signed_for_its_token(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    from datetime import timedelta

    from domain.base import utcnow
    from revo_client import callback_secret, verify_callback
    from services.notify import delivery
    from tests.integration import notify_support as ns

    north, _ = two_tenants
    secret = make_token(north)
    with ns.receiver(fail_first=1) as box:
        item = _submit(http, secret, "cb-1", {**ACTION, "callback_url": box.url}).json()
        reviews.approve(
            actor=north.actor(Role.REVIEWER), item_id=item["id"], seen_version=item["row_version"]
        )
        now = utcnow()
        delivery.drain(worker_id="w1", now=now)  # the receiver fails the first try
        delivery.drain(worker_id="w1", now=now + timedelta(minutes=10))
    assert len(box.requests) == 2 and len(set(box.ids())) == 1  # one message, retried
    headers, body = box.requests[-1]
    assert verify_callback(secret, headers, body)
    assert ns.verify_standard_webhook(callback_secret(secret), headers, body)
    assert not verify_callback(make_token(north), headers, body)  # another token's key
    sent = box.bodies()[-1]
    assert sent["type"] == "review.approved" and sent["data"]["item_id"] == item["id"]
    assert "callback_submission" not in sent
