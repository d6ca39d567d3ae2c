"""Reading the review queue: filtered, searched, sorted, keyset-paginated; counts; one item."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal,
    or_,
    select,
    tuple_,
)

from domain.base import utcnow
from domain.enums import ReviewKind, ReviewStatus
from domain.models import AuditEntry, Lead, ReviewItem, User
from domain.review_policy import PolicyRefusal
from services.actor import Actor
from services.audit import AuditEntryRead
from services.errors import InvalidInput
from services.pagination import COUNT_CAP, decode_cursor, encode_cursor
from services.permissions import Action, can, require
from services.review import context, editing, items, prechecks, rules, search_index
from services.review import policy as policies
from services.review.schemas import (
    QueueCounts,
    ReviewItemDetail,
    ReviewItemPage,
    ReviewItemRow,
    ReviewQueueFilter,
)
from services.uow import UnitOfWork

DUE_SOON = timedelta(hours=1)
# "1,000+ items match" says enough; counting further costs a filtered page more than its rows.
LIST_COUNT_CAP = 1_000
MAX_PAGE = 200
R = ReviewItem
SORTS: dict[str, list[Any]] = {
    "due": [R.due_at, R.id],
    "priority": [R.priority, R.due_at, R.id],
    "age": [R.created_at, R.id],
    "confidence": [R.confidence, R.id],
}
ROW_COLUMNS = [
    getattr(R, name)
    for name in ReviewItemRow.model_fields
    if name not in {"overdue", "claimed_by_name"}
]


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(R.claimed_by_id.is_(None), R.claim_expires_at <= now)


def _where(
    f: ReviewQueueFilter,
    actor: Actor,
    now: datetime,
    *,
    sqlite: bool = False,
    grams: list[str] | None = None,
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    # SQLite's planner, offered a range on the confidence index, takes it and then sorts every
    # match; unless the page is sorted by confidence, the band is applied as rows are walked in
    # the sort index's order instead (``+ 0`` makes the term unusable for an index).
    confidence: Any = R.confidence
    if sqlite and f.sort != "confidence":
        confidence = R.confidence + 0
    if f.kinds:
        clauses.append(R.kind.in_(f.kinds) if len(f.kinds) > 1 else R.kind == f.kinds[0])
    if f.statuses:
        clauses.append(
            R.status.in_(f.statuses) if len(f.statuses) > 1 else R.status == f.statuses[0]
        )
    if f.assignee == "me":
        clauses += [R.claimed_by_id == actor.user_id, R.claim_expires_at > now]
    elif f.assignee == "unassigned":
        clauses.append(_unclaimed(now))
    if f.subject.strip():
        clauses.append(
            func.lower(R.subject_label).contains(f.subject.strip().lower(), autoescape=True)
        )
    if f.search.strip():
        needle = f.search.strip().lower()
        if grams:  # SQLite: only rows holding these trigrams of the needle (search_index)
            clauses.append(R.id.in_(search_index.candidates(grams)))
        clauses.append(R.search_text.contains(needle, autoescape=True))
    if f.min_confidence is not None:
        clauses.append(confidence >= f.min_confidence)
    if f.max_confidence is not None:
        clauses.append(confidence <= f.max_confidence)
    if f.risks:
        clauses.append(R.risk.in_(f.risks))
    if f.older_than_hours is not None:
        clauses.append(R.created_at <= now - timedelta(hours=f.older_than_hours))
    if f.newer_than_hours is not None:
        clauses.append(R.created_at >= now - timedelta(hours=f.newer_than_hours))
    if f.due == "overdue":
        clauses.append(R.due_at < now)
    elif f.due == "due_soon":
        clauses += [R.due_at >= now, R.due_at < now + DUE_SOON]
    elif f.due == "not_due":
        clauses.append(R.due_at >= now)
    return clauses


def _cursor_values(keys: list[Any], cursor: str) -> list[Any]:
    raw = decode_cursor(cursor, arity=len(keys))
    values = []
    try:
        for key, value in zip(keys, raw, strict=True):
            if key is R.due_at or key is R.created_at:
                value = datetime.fromisoformat(value)
            values.append(literal(value, type_=key.type))
    except (TypeError, ValueError) as exc:
        raise InvalidInput("The page link is damaged; go back to the first page.") from exc
    return values


def _count(
    session: Any, where: list[ColumnElement[bool]], cap: int = COUNT_CAP
) -> tuple[int, bool]:
    inner = select(R.id).where(*where).limit(cap + 1).subquery()
    n = int(session.scalar(select(func.count()).select_from(inner)) or 0)
    return min(n, cap), n > cap


def list_queue(
    *,
    actor: Actor,
    filters: ReviewQueueFilter | None = None,
    cursor: str | None = None,
    limit: int = 50,
    with_total: bool = True,
) -> ReviewItemPage:
    """One page of the queue, filtered and sorted, with a capped total."""
    require(actor, Action.VIEW_REVIEW_QUEUE)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"A page holds 1 to {MAX_PAGE} items.")
    f = filters or ReviewQueueFilter()
    now = utcnow()
    keys = SORTS[f.sort]
    with UnitOfWork(actor, readonly=True) as uow:
        sqlite = uow.session.get_bind().dialect.name == "sqlite"
        needle = f.search.strip().lower()
        grams, few = None, False
        if sqlite and len(needle) >= search_index.MIN_CHARS:
            grams, at_most = search_index.rarest(uow.session, needle)
            few = at_most <= LIST_COUNT_CAP
            if at_most > search_index.SCAN_ABOVE:
                grams = None
        where = _where(f, actor, now, sqlite=sqlite, grams=grams)
        after = _cursor_values(keys, cursor) if cursor else None
        settled = None
        if few:
            settled = search_index.few_matches(
                uow.session, ROW_COLUMNS, where, keys, after, limit, LIST_COUNT_CAP
            )
        total: int | None
        if settled is not None:
            rows, matched = settled
            total, capped = (matched if with_total else None), False
        else:
            stmt: Select[Any] = select(*ROW_COLUMNS).where(*where)
            if after is not None:
                stmt = stmt.where(tuple_(*keys) > tuple_(*after))
            rows = list(uow.session.execute(stmt.order_by(*keys).limit(limit + 1)).all())
            if not with_total:
                total, capped = None, False
            elif cursor is None and len(rows) <= limit:  # the first page holds every match
                total, capped = len(rows), False
            else:
                total, capped = _count(uow.session, where, LIST_COUNT_CAP)
        page = [ReviewItemRow.model_validate(r._mapping) for r in rows[:limit]]
        holders = {r.claimed_by_id for r in page if r.claimed_by_id}
        names: dict[int, str] = {}
        if holders:
            named = uow.session.execute(
                select(User.id, User.display_name).where(User.id.in_(holders))
            ).all()
            names = {user_id: name for user_id, name in named}
    for row in page:
        row.overdue = row.status is ReviewStatus.PENDING and row.due_at < now
        live = row.claim_expires_at is not None and row.claim_expires_at > now
        row.claimed_by_name = names.get(row.claimed_by_id or 0) if live else None
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        next_cursor = encode_cursor([_key_value(last, k) for k in keys])
    return ReviewItemPage(items=page, next_cursor=next_cursor, total=total, total_capped=capped)


def _key_value(row: ReviewItemRow, key: Any) -> Any:
    value = getattr(row, key.key)
    return value.isoformat() if isinstance(value, datetime) else value


def queue_counts(*, actor: Actor) -> QueueCounts:
    """Pending, due within the hour, overdue, and held by the actor (each capped)."""
    require(actor, Action.VIEW_REVIEW_QUEUE)
    now = utcnow()
    pending = [R.status == ReviewStatus.PENDING]
    with UnitOfWork(actor, readonly=True) as uow:
        s = uow.session
        total, c1 = _count(s, pending)
        soon, c2 = _count(s, [*pending, R.due_at >= now, R.due_at < now + DUE_SOON])
        overdue, c3 = _count(s, [*pending, R.due_at < now])
        mine, _ = _count(
            s, [*pending, and_(R.claimed_by_id == actor.user_id, R.claim_expires_at > now)]
        )
    return QueueCounts(
        pending=total, due_soon=soon, overdue=overdue, mine=mine, capped=c1 or c2 or c3
    )


def get_item(*, actor: Actor, item_id: int) -> ReviewItemDetail:
    """One item with its context (lead, deal, invoice, investigation) and its history."""
    require(actor, Action.VIEW_REVIEW_QUEUE)
    now = utcnow()
    with UnitOfWork(actor, readonly=True) as uow:
        item = items.load(uow.session, item_id)
        policy = policies.load(uow.session, actor.tenant_id)
        may_decide = can(actor, Action.DECIDE_REVIEW) and item.status is ReviewStatus.PENDING
        if may_decide:
            try:
                policies.check_decider(policy, item, actor, approving=False)
            except PolicyRefusal:
                may_decide = False
        detail = ReviewItemDetail(
            item=items.to_read(item, now),
            context=context.build(uow.session, item),
            audit=_history(uow.session, item_id) if can(actor, Action.VIEW_AUDIT) else [],
            claimed_by=(
                items.user_label(uow.session, item.claimed_by_id)
                if item.claimed_by_id and item.claim_expires_at and item.claim_expires_at > now
                else None
            ),
            may_decide=may_decide,
            needs_second_approver=policy.needs_second_approver(
                item.kind, editing.policy_amount(item)
            ),
            editable=_editable(uow.session, item),
            next_step=(prechecks.next_step(item) if item.status is ReviewStatus.FAILED else None),
        )
    return detail


def _editable(session: Any, item: ReviewItem) -> dict[str, Any]:
    values = {
        name: item.payload.get(name) for name in rules.editable_fields(item.kind, item.payload)
    }
    if item.kind is ReviewKind.OUTREACH_EMAIL and not values.get("to"):
        lead = session.get(Lead, item.subject_id)
        values["to"] = lead.email if lead else ""
    return values


def _history(session: Any, item_id: int) -> list[AuditEntryRead]:
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity_type == items.ENTITY, AuditEntry.entity_id == item_id)
        .order_by(AuditEntry.id)
        .limit(200)
    ).all()
    return [AuditEntryRead.model_validate(r) for r in rows]
