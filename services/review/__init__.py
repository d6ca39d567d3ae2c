"""The review queue: the human gate every agent draft passes before anything happens."""

from domain.enums import ReasonCode, ReviewKind, ReviewStatus, Risk
from domain.review_policy import REASON_LABELS
from services.review.claims import claim, next_item, release, renew
from services.review.decisions import (
    approve,
    bulk_decide,
    edit_and_approve,
    reject,
    retry_execution,
)
from services.review.drafts import ReviewDraftCreate, expire_overdue, submit_draft
from services.review.policy import (
    PolicyPreview,
    ReviewPolicyRead,
    get_policy,
    preview_policy,
    update_policy,
)
from services.review.prechecks import PreCheck, ReviewPreChecks, pre_checks
from services.review.queue import get_item, list_queue, queue_counts
from services.review.schemas import (
    BulkResult,
    DecisionResult,
    QueueCounts,
    ReviewItemDetail,
    ReviewItemPage,
    ReviewItemRead,
    ReviewItemRow,
    ReviewQueueFilter,
)

__all__ = [
    "REASON_LABELS",
    "BulkResult",
    "DecisionResult",
    "PolicyPreview",
    "PreCheck",
    "QueueCounts",
    "ReasonCode",
    "ReviewDraftCreate",
    "ReviewItemDetail",
    "ReviewItemPage",
    "ReviewItemRead",
    "ReviewItemRow",
    "ReviewKind",
    "ReviewPolicyRead",
    "ReviewPreChecks",
    "ReviewQueueFilter",
    "ReviewStatus",
    "Risk",
    "approve",
    "bulk_decide",
    "claim",
    "edit_and_approve",
    "expire_overdue",
    "get_item",
    "get_policy",
    "list_queue",
    "next_item",
    "pre_checks",
    "preview_policy",
    "queue_counts",
    "reject",
    "release",
    "renew",
    "retry_execution",
    "submit_draft",
    "update_policy",
]
