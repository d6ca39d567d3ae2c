"""DTOs of the review queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.enums import ReasonCode, ReviewKind, ReviewStatus, Risk
from services.audit import AuditEntryRead
from services.pagination import Page

Assignee = Literal["anyone", "me", "unassigned"]
DueFilter = Literal["any", "overdue", "due_soon", "not_due"]
SortKey = Literal["due", "priority", "age", "confidence"]


class ReviewQueueFilter(BaseModel):
    """What a reviewer narrows the queue to. Empty lists mean "any"."""

    kinds: list[ReviewKind] = Field(default_factory=list)
    statuses: list[ReviewStatus] = Field(default_factory=lambda: [ReviewStatus.PENDING])
    assignee: Assignee = "anyone"
    subject: str = ""
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    max_confidence: float | None = Field(default=None, ge=0, le=1)
    risks: list[Risk] = Field(default_factory=list)
    older_than_hours: float | None = Field(default=None, ge=0)
    newer_than_hours: float | None = Field(default=None, ge=0)
    due: DueFilter = "any"
    search: str = ""
    sort: SortKey = "due"


class ReviewItemRow(BaseModel):
    """One line of the queue table."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: ReviewKind
    status: ReviewStatus
    subject_type: str
    subject_id: int
    subject_label: str
    amount: float | None
    confidence: float
    risk: Risk
    priority: int
    due_at: datetime
    created_at: datetime
    claimed_by_id: int | None
    claim_expires_at: datetime | None
    first_approver_id: int | None
    row_version: int
    overdue: bool = False
    claimed_by_name: str | None = None


class ReviewItemPage(Page[ReviewItemRow]):
    pass


class ReviewItemRead(ReviewItemRow):
    """One item with everything a decision needs."""

    payload: dict[str, Any]
    original_payload: dict[str, Any]
    edited_payload: dict[str, Any] | None
    edit_diff: str | None
    edit_distance: int | None
    expires_at: datetime | None
    run_id: int | None
    drafted_by: str
    triggered_by_id: int | None
    first_approved_at: datetime | None
    decided_by_id: int | None
    decided_at: datetime | None
    reason_code: ReasonCode | None
    comment: str | None
    executed_at: datetime | None
    execution_attempts: int
    execution_error: str | None


class ReviewContext(BaseModel):
    """What the item is about, rendered beside the draft (lead, deal, invoice, investigation)."""

    email_from: str | None = None
    email_to: str | None = None
    facts: dict[str, str] = Field(default_factory=dict)
    history: list[dict[str, str]] = Field(default_factory=list)
    # For cards that read like the document: the tenant's clock and money rules.
    time_zone: str = "UTC"
    currency: str | None = None
    list_price: float | None = None  # the deal's amount before any discount
    discount_cap_pct: float | None = None  # the tenant's cap on deal discounts
    subject_url: str | None = None  # the console page of the subject (an investigation)


class ReviewItemDetail(BaseModel):
    item: ReviewItemRead
    context: ReviewContext
    audit: list[AuditEntryRead]
    claimed_by: str | None = None
    may_decide: bool = False
    needs_second_approver: bool = False
    # What an edit may change, with the value it starts from (execution reads exactly these).
    editable: dict[str, Any] = Field(default_factory=dict)
    next_step: str | None = None  # for a failed execution: what to do about it


class QueueCounts(BaseModel):
    pending: int
    due_soon: int
    overdue: int
    mine: int
    capped: bool = False


class DecisionResult(BaseModel):
    item: ReviewItemRead
    message: str
    ok: bool = True  # False: approved, but carrying it out failed (the message says what next)


class BulkItemResult(BaseModel):
    item_id: int
    ok: bool
    message: str


class BulkResult(BaseModel):
    results: list[BulkItemResult]

    @property
    def succeeded(self) -> int:
        return sum(r.ok for r in self.results)

    @property
    def failed(self) -> list[BulkItemResult]:
        return [r for r in self.results if not r.ok]
