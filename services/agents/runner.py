"""Execute one claimed run: inputs → pre-checks → prompt → model → post-checks → review items.

The model is called outside any database transaction (it may take a minute). The run's success
and its review items are written in one transaction that first re-checks the lease, so a run
that was cancelled or reclaimed meanwhile writes nothing, and no run writes its items twice.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from domain import transitions
from domain.base import utcnow
from domain.enums import ReviewStatus, RunStatus
from domain.models import AgentRun, ReviewItem
from domain.review_policy import ReviewPolicy
from services import audit, logs, prompts
from services.agents.base import Agent, AgentRefused, Draft, Inputs
from services.agents.registry import AGENTS
from services.config import get_settings
from services.errors import LLMTimeout, LLMUnavailable, ServiceError
from services.llm.client import get_client
from services.llm.recording import CallContext
from services.notify import events as notify_events
from services.review import drafts as review_drafts
from services.review import items as review_items
from services.review import policy as policies
from services.run_lease import Claim, Heartbeat, Waiting
from services.uow import UnitOfWork

log = logging.getLogger(__name__)
S = RunStatus


class _LeaseLost(Exception):
    pass


def _owned(claim: Claim) -> Any:
    return (
        AgentRun.id == claim.run_id,
        AgentRun.lease_owner == claim.worker_id,
        AgentRun.status == S.RUNNING,
    )


def _item(
    claim: Claim, inputs: Inputs, draft: Draft, policy: ReviewPolicy, now: datetime
) -> ReviewItem:
    return ReviewItem(
        tenant_id=claim.tenant_id,
        kind=draft.kind,
        status=ReviewStatus.PENDING,
        subject_type=inputs.subject_type,
        subject_id=inputs.subject_id,
        subject_label=inputs.subject_label[:300],
        payload=draft.payload,
        original_payload=dict(draft.payload),
        search_text=draft.search_text,
        amount=draft.amount,
        confidence=draft.confidence,
        risk=draft.risk,
        priority=draft.priority,
        due_at=policy.due_at(draft.kind, now),
        expires_at=policy.expires_at(draft.kind, now),
        created_at=now,
        run_id=claim.run_id,
        drafted_by=claim.agent.value,  # the agent name, as the metrics group and filter by it
        triggered_by_id=claim.triggered_by_id,
    )


def refuse_duplicate(session: Session, agent: Agent, inputs: Inputs, *, lock: bool) -> None:
    """AgentRefused when the subject already has a pending draft of the agent's kind: the run
    ends (dead, not retried) instead of queueing a second draft that would go out as well."""
    pending = review_drafts.pending_duplicate(
        session,
        kind=agent.kind,
        subject_type=inputs.subject_type,
        subject_id=inputs.subject_id,
        lock=lock,
    )
    if pending is not None:
        kind = agent.kind.value.replace("_", " ")
        raise AgentRefused(
            f"{inputs.subject_label} already has a pending {kind} draft (review item "
            f"#{pending}); decide that one first. No second draft was made."
        )


def _succeed(claim: Claim, inputs: Inputs, output: Any, started: float) -> int:
    agent = AGENTS[claim.agent]
    now = utcnow()
    with UnitOfWork(None, tenant_id=claim.tenant_id) as uow:
        refuse_duplicate(uow.session, agent, inputs, lock=True)  # a run that finished meanwhile
        drafts = agent.drafts(inputs, output, uow.session)
        transitions.agent_run(S.RUNNING, S.SUCCEEDED)
        done = uow.update_guarded(
            AgentRun,
            *_owned(claim),
            status=S.SUCCEEDED,
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            duration_ms=int((time.perf_counter() - started) * 1000),
            error=None,
        )
        if done != 1:
            raise _LeaseLost
        policy = policies.load(uow.session, claim.tenant_id)
        items = [_item(claim, inputs, d, policy, now) for d in drafts]
        uow.session.add_all(items)
        uow.session.flush()
        for item in items:
            review_items.record(uow, item, "review.submitted", {}, extra={"kind": item.kind.value})
        audit.record(
            uow,
            action="run.succeeded",
            entity_type="agent_run",
            entity_id=claim.run_id,
            after={"status": S.SUCCEEDED.value, "review_items": [i.id for i in items]},
            tenant_id=claim.tenant_id,
        )
        uow.commit()
        return len(items)


def _backoff(attempt: int) -> float:
    s = get_settings()
    return float(min(s.worker_retry_max_s, s.worker_retry_base_s * 2 ** (attempt - 1)))


def _fail(claim: Claim, exc: BaseException, *, permanent: bool, waiting: bool) -> RunStatus:
    now = utcnow()
    attempts = claim.attempts - 1 if waiting else claim.attempts
    failed = transitions.agent_run(S.RUNNING, S.FAILED)
    if permanent or attempts >= claim.max_attempts:
        target = transitions.agent_run(failed, S.DEAD)
        next_at = None
    else:
        target = transitions.agent_run(failed, S.RETRYING)
        delay = _backoff(max(attempts, 1))
        if waiting:  # no model: come back after the breaker's cool-down, not in a tight loop
            s = get_settings()
            delay = max(delay, min(s.llm_breaker_cooldown_s, s.worker_retry_max_s))
        next_at = now + timedelta(seconds=delay * random.uniform(0.8, 1.2))
    message = exc.message if isinstance(exc, ServiceError) else f"{type(exc).__name__}: {exc}"
    with UnitOfWork(None, tenant_id=claim.tenant_id) as uow:
        done = uow.update_guarded(
            AgentRun,
            *_owned(claim),
            status=target,
            attempts=attempts,
            lease_owner=None,
            lease_expires_at=None,
            next_attempt_at=next_at,
            finished_at=now if target is S.DEAD else None,
            error=message[:4000],
        )
        if done != 1:
            return S.CANCELLED
        audit.record(
            uow,
            action=f"run.{target.value}",
            entity_type="agent_run",
            entity_id=claim.run_id,
            after={"status": target.value, "error": message[:500], "attempts": attempts},
            tenant_id=claim.tenant_id,
        )
        if target is S.DEAD:
            notify_events.on_run_dead(
                uow.session, tenant_id=claim.tenant_id, run_id=claim.run_id, error=message, now=now
            )
        uow.commit()
    return target


def _prepare(claim: Claim) -> tuple[Inputs, prompts.PromptRead]:
    agent = AGENTS[claim.agent]
    prompts.ensure_seeded(tenant_id=claim.tenant_id)
    with UnitOfWork(None, readonly=True, tenant_id=claim.tenant_id) as uow:
        inputs = agent.load(uow.session, claim.subject_id)
        refuse_duplicate(uow.session, agent, inputs, lock=False)  # before paying for a model call
        prompt = prompts.load_active(uow.session, agent.prompt_key)
    return inputs, prompt


def execute(claim: Claim) -> RunStatus | Waiting:
    """Run a claimed run to its next status (succeeded, retrying, dead, cancelled if lost),
    or Waiting.FOR_MODEL when the model is unreachable and the run waits for it."""
    with logs.bound(tenant_id=claim.tenant_id, run_id=claim.run_id, agent=claim.agent.value):
        return _execute(claim)


def _execute(claim: Claim) -> RunStatus | Waiting:
    agent = AGENTS[claim.agent]
    started = time.perf_counter()
    try:
        with Heartbeat(claim) as beat:
            inputs, prompt = _prepare(claim)
            ctx = CallContext(
                tenant_id=claim.tenant_id,
                run_id=claim.run_id,
                prompt_key=prompt.key,
                prompt_version=prompt.version,
                prompt_hash=prompt.hash,
            )
            result = get_client().complete(
                agent.output, prompt.messages(inputs.values), ctx=ctx, params=prompt.parameters
            )
            if beat.lost:
                raise _LeaseLost
        _succeed(claim, inputs, result.value, started)
        return S.SUCCEEDED
    except _LeaseLost:
        log.info("run %s is no longer ours (cancelled or reclaimed)", claim.run_id)
        return S.CANCELLED
    except AgentRefused as exc:
        return _fail(claim, exc, permanent=True, waiting=False)
    except LLMTimeout as exc:  # reachable but too slow for this run: that uses an attempt
        return _fail(claim, exc, permanent=False, waiting=False)
    except LLMUnavailable as exc:  # nobody home: wait without using up the run's attempts
        _fail(claim, exc, permanent=False, waiting=True)
        return Waiting.FOR_MODEL
    except Exception as exc:  # any other failure: retried with backoff until max attempts
        log.warning(
            "run %s failed: %s", claim.run_id, exc, exc_info=not isinstance(exc, ServiceError)
        )
        return _fail(claim, exc, permanent=False, waiting=False)
