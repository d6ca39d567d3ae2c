"""/v1/reviews: submit an action for review, read or wait for its decision, report execution."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import scoped
from api.params import RowId
from services import api_decisions
from services import review as reviews
from services.actor import Actor
from services.api_tokens import Scope
from services.config import get_settings
from services.errors import InvalidInput, NotFound
from services.review import signals, submissions
from services.review.schemas import (
    ReasonCode,
    ReviewItemPage,
    ReviewKind,
    ReviewQueueFilter,
    ReviewStatus,
    SortKey,
)
from services.review.submissions import (
    ExecutionReport,
    ReviewState,
    ReviewSubmissionCreate,
)

router = APIRouter(prefix="/v1/reviews", tags=["reviews"])
Submitter = Annotated[Actor, Depends(scoped(Scope.REVIEWS_SUBMIT))]
Reader = Annotated[Actor, Depends(scoped(Scope.REVIEWS_READ))]


@router.post("", response_model=ReviewState, status_code=201)
async def submit_review(
    submission: ReviewSubmissionCreate,
    response: Response,
    actor: Submitter,
    idempotency_key: Annotated[str, Header(min_length=1, max_length=200)],
) -> ReviewState:
    """Hold an action for a human decision; the same Idempotency-Key returns the same item."""
    # Async with one explicit hop: a sync route would take a second hop to serialize.
    result = await run_in_threadpool(
        submissions.submit, actor=actor, idempotency_key=idempotency_key, submission_in=submission
    )
    if not result.created:
        response.status_code = 200
    response.headers["Location"] = f"v1/reviews/{result.review.id}"
    return result.review


@router.get("", response_model=ReviewItemPage)
def list_reviews(
    actor: Reader,
    status: Annotated[list[ReviewStatus] | None, Query(max_length=10)] = None,
    kind: Annotated[list[ReviewKind] | None, Query(max_length=20)] = None,
    search: Annotated[str, Query(max_length=200)] = "",
    sort: SortKey = "due",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ReviewItemPage:
    """The tenant's review items (pending unless ``status`` says otherwise), sorted, one page at a
    time: follow ``next_cursor``."""
    filters = ReviewQueueFilter(
        statuses=status or [ReviewStatus.PENDING], kinds=kind or [], search=search, sort=sort
    )
    return reviews.list_queue(actor=actor, filters=filters, cursor=cursor, limit=limit)


async def _wait(actor: Actor, item_id: int, seconds: float) -> None:
    """Return when the item leaves pending or the time is up, holding no connection meanwhile."""
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()
    unsubscribe = signals.subscribe(item_id, lambda: loop.call_soon_threadsafe(woken.set))
    deadline = time.monotonic() + seconds
    reread = get_settings().api_wait_reread_s
    try:
        while True:
            woken.clear()  # before the read: a decision committed after it still wakes us
            found = await run_in_threadpool(submissions.probe, actor=actor, item_id=item_id)
            if found is None:
                raise NotFound(f"There is no review item #{item_id}.")
            left = deadline - time.monotonic()
            if found[0] is not ReviewStatus.PENDING or left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), timeout=min(reread, left))
    finally:
        unsubscribe()


@router.get("/{item_id}", response_model=ReviewState)
async def get_review(
    item_id: RowId,
    actor: Reader,
    wait: Annotated[float, Query(ge=0, le=600, allow_inf_nan=False)] = 0,
) -> ReviewState:
    """The item's state; with ``wait`` (seconds) answer as soon as it is decided or expired."""
    if wait > 0:
        await _wait(actor, item_id, min(wait, get_settings().api_wait_max_s))
    return await run_in_threadpool(submissions.get_state, actor=actor, item_id=item_id)


@router.post("/{item_id}/execution", response_model=ReviewState)
def report_execution(item_id: RowId, report: ExecutionReport, actor: Submitter) -> ReviewState:
    """Report that an approved external action was carried out (or failed)."""
    return submissions.report_execution(actor=actor, item_id=item_id, report_in=report)


class DecisionIn(BaseModel):
    decision: Literal["approve", "reject"]
    seen_version: int = Field(ge=0, le=2**31 - 1)
    edited_payload: dict[str, Any] | None = None
    reason_code: ReasonCode | None = None
    comment: str = Field(default="", max_length=2000)


Decider = Annotated[Actor, Depends(scoped(Scope.REVIEWS_DECIDE))]


@router.post("/{item_id}/decision", response_model=ReviewState)
def decide(item_id: RowId, decision_in: DecisionIn, token_actor: Decider) -> ReviewState:
    """Decide as the tenant's named integration user (403 unless the tenant named one)."""
    actor = api_decisions.deciding_actor(token_actor=token_actor)
    if decision_in.decision == "reject":
        if decision_in.reason_code is None:
            raise InvalidInput("Give a reason_code to reject.")
        reviews.reject(
            actor=actor,
            item_id=item_id,
            seen_version=decision_in.seen_version,
            reason_code=decision_in.reason_code,
            comment=decision_in.comment,
        )
    elif decision_in.edited_payload is not None:
        reviews.edit_and_approve(
            actor=actor,
            item_id=item_id,
            seen_version=decision_in.seen_version,
            edited_payload=decision_in.edited_payload,
            comment=decision_in.comment,
        )
    else:
        reviews.approve(
            actor=actor,
            item_id=item_id,
            seen_version=decision_in.seen_version,
            comment=decision_in.comment,
        )
    return submissions.get_state(actor=token_actor, item_id=item_id)
