"""The typed client and its require_approval decorator against the live API."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from domain.enums import ReasonCode, Role
from revo_client import NotApproved, RevoClient, require_approval
from services import review as reviews
from services.review import ReviewQueueFilter, ReviewStatus
from services.tenants import TenantWithUsers
from tests.support.api_tokens import make_token

Tenants = tuple[TenantWithUsers, TenantWithUsers]


def _decide_first_pending(tenant: TenantWithUsers, *, approve_amount: float | None) -> None:
    reviewer = tenant.actor(Role.REVIEWER)
    for _ in range(200):
        page = reviews.list_queue(actor=reviewer)
        if page.items:
            row = page.items[0]
            item = reviews.get_item(actor=reviewer, item_id=row.id).item
            if approve_amount is None:
                reviews.reject(
                    actor=reviewer,
                    item_id=row.id,
                    seen_version=row.row_version,
                    reason_code=ReasonCode.NOT_NEEDED,
                )
                return
            edited = {**item.payload, "data": {**item.payload["data"], "amount": approve_amount}}
            reviews.edit_and_approve(
                actor=reviewer, item_id=row.id, seen_version=row.row_version, edited_payload=edited
            )
            return
        time.sleep(0.05)
    raise AssertionError("nothing was submitted")


def test_require_approval_runs_the_function_with_the_reviewers_edit_and_reports_it(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    north, _ = two_tenants
    client = RevoClient(str(http.base_url), token=make_token(north))
    calls: list[float] = []

    @require_approval(client, title=lambda **kw: f"Refund {kw['amount']}")
    def refund(*, customer: str, amount: float) -> str:
        calls.append(amount)
        return f"refunded {amount}"

    decider = threading.Thread(
        target=_decide_first_pending, args=(north,), kwargs={"approve_amount": 20.0}
    )
    decider.start()
    assert refund(customer="ada", amount=49.0) == "refunded 20.0"
    decider.join()
    assert calls == [20.0]
    done = reviews.list_queue(
        actor=north.actor(Role.ADMIN), filters=ReviewQueueFilter(statuses=[ReviewStatus.EXECUTED])
    )
    assert len(done.items) == 1


def test_require_approval_raises_when_rejected_and_never_runs(
    http: httpx.Client, two_tenants: Tenants
) -> None:
    north, _ = two_tenants
    client = RevoClient(str(http.base_url), token=make_token(north))
    ran: list[bool] = []

    @require_approval(client, title="Delete the staging database")
    def drop(*, name: str) -> None:
        ran.append(True)

    threading.Thread(
        target=_decide_first_pending, args=(north,), kwargs={"approve_amount": None}
    ).start()
    with pytest.raises(NotApproved, match="not_needed"):
        drop(name="staging")
    assert ran == []
