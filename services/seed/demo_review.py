"""Demo review queue: items of every kind in every status, drafted by real runs."""

from __future__ import annotations

import bisect
import copy
import difflib
import json
from datetime import datetime, timedelta
from typing import Any

from domain.enums import ReasonCode, ReviewKind, ReviewStatus, Risk, Role, RunStatus
from domain.models import AgentRun, ReviewItem
from services.seed.context import DemoContext
from services.seed.demo_payloads import Draft, draft, outreach_for
from services.seed.vocab import AGENT_OF_KIND, REASON_COMMENTS, SLA_HOURS, pick, spread, weighted

STATUS_COUNTS = {
    ReviewStatus.PENDING: 84,
    ReviewStatus.APPROVED: 10,
    ReviewStatus.EXECUTED: 28,
    ReviewStatus.FAILED: 5,
    ReviewStatus.REJECTED: 15,
    ReviewStatus.EXPIRED: 8,
}
KIND_COUNTS = {
    ReviewKind.OUTREACH_EMAIL: 45,
    ReviewKind.DEAL_PROPOSAL: 20,
    ReviewKind.COUNTER_OFFER: 18,
    ReviewKind.CONTRACT: 15,
    ReviewKind.DUNNING_NOTICE: 32,
    ReviewKind.RCA_HYPOTHESIS: 20,
}
DECIDERS = {
    ReviewKind.OUTREACH_EMAIL: (Role.SDR, Role.REVIEWER),
    ReviewKind.DEAL_PROPOSAL: (Role.SALES, Role.REVIEWER),
    ReviewKind.COUNTER_OFFER: (Role.SALES, Role.REVIEWER),
    ReviewKind.CONTRACT: (Role.SALES, Role.ADMIN),
    ReviewKind.DUNNING_NOTICE: (Role.FINANCE, Role.REVIEWER),
    ReviewKind.RCA_HYPOTHESIS: (Role.REVIEWER, Role.ADMIN),
}
EXECUTION_ERRORS = {
    ReviewKind.OUTREACH_EMAIL: "SMTP 451 4.7.1 temporary failure: try again later",
    ReviewKind.DEAL_PROPOSAL: "Deal changed since the proposal was drafted (version 3 != 2).",
    ReviewKind.COUNTER_OFFER: "Deal is closed_lost; a counter-offer can no longer be recorded.",
    ReviewKind.CONTRACT: "E-signature provider returned 503; contract not sent.",
    ReviewKind.DUNNING_NOTICE: "Mailbox unavailable: 550 5.1.1 recipient address rejected",
    ReviewKind.RCA_HYPOTHESIS: "Investigation was closed before the hypothesis was recorded.",
}
SECOND_APPROVAL_ABOVE = 50_000.0


def _finished(run: AgentRun) -> datetime:
    return run.finished_at or run.created_at


class _RunIndex:
    """Succeeded runs per agent, by finish time, to find the run that drafted an item."""

    def __init__(self, runs: list[AgentRun]) -> None:
        self.by_agent: dict[str, list[AgentRun]] = {}
        for run in sorted(runs, key=_finished):
            if run.status == RunStatus.SUCCEEDED and run.finished_at:
                self.by_agent.setdefault(run.agent.value, []).append(run)
        self.ends = {a: [_finished(r) for r in rs] for a, rs in self.by_agent.items()}

    def nearest(self, agent: str, at: datetime) -> AgentRun:
        runs, ends = self.by_agent[agent], self.ends[agent]
        i = bisect.bisect_right(ends, at)
        if i == len(runs) or (i > 0 and at - ends[i - 1] <= ends[i] - at):
            return runs[i - 1]
        return runs[i]


def seed_review_items(ctx: DemoContext) -> list[ReviewItem]:
    """About 150 review items for one tenant, more than half pending; returns them flushed."""
    rng = ctx.rng
    runs = _RunIndex(ctx.runs)
    statuses = spread(rng, STATUS_COUNTS)
    kinds = spread(rng, KIND_COUNTS)
    items = [_item(ctx, runs, kind, status) for kind, status in zip(kinds, statuses, strict=True)]
    _pending_for_do_not_contact(ctx, items)
    items.sort(key=lambda item: item.created_at)
    ctx.save(items)
    return items


def _target_time(ctx: DemoContext, status: ReviewStatus) -> datetime:
    rng, now = ctx.rng, ctx.now
    if status == ReviewStatus.PENDING:
        return now - timedelta(hours=min(rng.expovariate(1 / 6), 48))
    if status == ReviewStatus.APPROVED:
        return now - timedelta(hours=rng.uniform(2, 40))
    if status == ReviewStatus.EXPIRED:
        return now - timedelta(days=rng.uniform(8, 29))
    return now - timedelta(days=rng.uniform(0.5, 29))


def _item(ctx: DemoContext, runs: _RunIndex, kind: ReviewKind, status: ReviewStatus) -> ReviewItem:
    rng, now = ctx.rng, ctx.now
    run = runs.nearest(AGENT_OF_KIND[kind.value].value, _target_time(ctx, status))
    created = (run.finished_at or run.created_at) + timedelta(seconds=rng.uniform(0.2, 3))
    d = draft(ctx, kind, run, created)
    confidence = d.payload.get("confidence") or round(rng.betavariate(7, 2.2), 2)
    risk = _risk(d.amount, confidence)
    item = ReviewItem(
        tenant_id=ctx.tenant_id,
        kind=kind,
        status=status,
        subject_type=d.subject_type,
        subject_id=d.subject_id,
        subject_label=d.subject_label[:300],
        payload=d.payload,
        original_payload=d.payload,
        search_text=f"{d.subject_label} {d.key_text}".lower(),
        amount=d.amount,
        confidence=confidence,
        risk=risk,
        priority={Risk.HIGH: rng.choice([0, 1]), Risk.MEDIUM: rng.choice([1, 2])}.get(
            risk, rng.choice([2, 3])
        ),
        due_at=created + timedelta(hours=SLA_HOURS[kind.value]),
        expires_at=created + timedelta(days=7),
        run_id=run.id,
        drafted_by=run.agent.value,
        triggered_by_id=run.triggered_by_id,
        execution_attempts=0,
        created_at=created,
        row_version=1,
    )
    if status == ReviewStatus.PENDING:
        _maybe_claim_or_first_approve(ctx, item)
    elif status != ReviewStatus.EXPIRED:
        _decide(ctx, item, d)
    item.updated_at = item.decided_at or item.first_approved_at or item.claim_expires_at
    if item.updated_at and item.updated_at > now:
        item.updated_at = now - timedelta(minutes=rng.uniform(1, 10))
    return item


def _risk(amount: float | None, confidence: float) -> Risk:
    if (amount or 0) > 100_000 or confidence < 0.55:
        return Risk.HIGH
    if (amount or 0) > 30_000 or confidence < 0.7:
        return Risk.MEDIUM
    return Risk.LOW


def _maybe_claim_or_first_approve(ctx: DemoContext, item: ReviewItem) -> None:
    rng, now = ctx.rng, ctx.now
    if (item.amount or 0) > SECOND_APPROVAL_ABOVE and rng.random() < 0.5:
        first = _decider(ctx, item, avoid_admin=True)
        item.first_approver_id = first
        item.first_approved_at = min(item.created_at + timedelta(hours=rng.uniform(0.2, 3)), now)
        item.row_version += 1
    elif rng.random() < 0.12:
        item.claimed_by_id = ctx.user_id(pick(rng, DECIDERS[item.kind]))
        item.claim_expires_at = now + timedelta(minutes=rng.uniform(2, 14))
        item.row_version += 1


def _decider(ctx: DemoContext, item: ReviewItem, *, avoid_admin: bool = False) -> int:
    # The person who triggered the run may not decide on its draft.
    roles = [r for r in DECIDERS[item.kind] if not (avoid_admin and r == Role.ADMIN)]
    roles = roles or [Role.REVIEWER]
    candidates = [ctx.user_id(r) for r in roles if ctx.user_id(r) != item.triggered_by_id]
    return pick(ctx.rng, candidates or [ctx.user_id(Role.ADMIN)])


def _decide(ctx: DemoContext, item: ReviewItem, d: Draft) -> None:
    rng, now = ctx.rng, ctx.now
    sla = timedelta(hours=SLA_HOURS[item.kind.value])
    decided = min(item.created_at + sla * rng.uniform(0.05, 1.3), now - timedelta(minutes=3))
    item.decided_at = decided
    item.row_version = 2
    if item.status == ReviewStatus.REJECTED:
        item.decided_by_id = _decider(ctx, item)
        code = weighted(rng, dict(zip(ReasonCode, (30, 25, 15, 10, 12, 8), strict=True)))
        item.reason_code = code
        item.comment = REASON_COMMENTS[code.value]
        return
    if (item.amount or 0) > SECOND_APPROVAL_ABOVE:
        item.first_approver_id = _decider(ctx, item, avoid_admin=True)
        item.first_approved_at = decided - timedelta(minutes=rng.uniform(10, 120))
        item.decided_by_id = ctx.user_id(Role.ADMIN)
    else:
        item.decided_by_id = _decider(ctx, item)
    if rng.random() < 0.35:
        _edit(ctx, item, d)
    if rng.random() < 0.3:
        item.comment = pick(rng, ["Looks good.", "Approved with minor edits.", "OK to send."])
    if item.status == ReviewStatus.EXECUTED:
        item.executed_at = min(decided + timedelta(seconds=rng.uniform(3, 180)), now)
        item.execution_attempts = 1
        item.row_version = 3
    elif item.status == ReviewStatus.FAILED:
        item.execution_attempts = rng.randint(1, 3)
        item.execution_error = EXECUTION_ERRORS[item.kind]
        item.row_version = 3


def _edit(ctx: DemoContext, item: ReviewItem, d: Draft) -> None:
    rng = ctx.rng
    edited: dict[str, Any] = copy.deepcopy(d.payload)
    if "body" in edited:
        edited["body"] = edited["body"].replace("Would 20 minutes", "Would a short call")
        edited["body"] = edited["body"].replace("Bank details", "Our bank details")
        edited["subject"] = edited["subject"].replace("Quick question about", "About")
    elif "discount_pct" in edited:
        # The reviewer gives away less: lower discount, amount recomputed from the list price.
        old = edited["discount_pct"]
        new = max(0.0, old - rng.choice([2, 3]))
        edited["discount_pct"] = new
        edited["amount"] = round(edited["amount"] / (1 - old / 100) * (1 - new / 100), 2)
        item.amount = edited["amount"]
    elif "summary" in edited:
        edited["summary"] += " Reviewer note: confirm the liability cap with legal."
    else:
        edited["hypothesis"] = "Confirmed after rollback. " + edited["hypothesis"]
    if edited == d.payload:
        return
    before = json.dumps(d.payload, indent=2, sort_keys=True).splitlines()
    after = json.dumps(edited, indent=2, sort_keys=True).splitlines()
    diff = difflib.unified_diff(before, after, "draft", "edited", lineterm="")
    matcher = difflib.SequenceMatcher(None, json.dumps(d.payload), json.dumps(edited))
    item.edited_payload = edited
    item.payload = edited
    item.edit_diff = "\n".join(diff)
    item.edit_distance = sum(
        max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    )


def _pending_for_do_not_contact(ctx: DemoContext, items: list[ReviewItem]) -> None:
    """One pending outreach to a do-not-contact lead, so the policy check has something to stop."""
    dnc = [ld for ld in ctx.pipeline.leads if ld.do_not_contact]
    target = next(
        (
            i
            for i in items
            if i.kind == ReviewKind.OUTREACH_EMAIL and i.status == ReviewStatus.PENDING
        ),
        None,
    )
    if not dnc or target is None:
        return
    d = outreach_for(ctx, dnc[0])
    target.subject_id, target.subject_label = d.subject_id, d.subject_label
    target.payload, target.original_payload = d.payload, d.payload
    target.search_text = f"{d.subject_label} {d.key_text}".lower()
    target.risk, target.priority = Risk.HIGH, 0
