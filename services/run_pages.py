"""Runs one keyset page at a time, newest first (the API's run list)."""

from __future__ import annotations

from sqlalchemy import select

from domain.enums import AgentName, RunStatus
from domain.models import AgentRun
from services.actor import Actor
from services.pagination import Page, decode_cursor, encode_cursor
from services.permissions import Action, require
from services.runs import RunRead
from services.uow import UnitOfWork


class RunPage(Page[RunRead]):
    pass


def list_page(
    *,
    actor: Actor,
    status: RunStatus | None = None,
    agent: AgentName | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> RunPage:
    """The tenant's runs, newest first, ``limit`` at a time after the cursor."""
    require(actor, Action.VIEW_METRICS)
    limit = max(1, min(limit, 200))
    stmt = select(AgentRun).order_by(AgentRun.id.desc()).limit(limit + 1)
    if status is not None:
        stmt = stmt.where(AgentRun.status == status)
    if agent is not None:
        stmt = stmt.where(AgentRun.agent == agent)
    if cursor:
        (last_id,) = decode_cursor(cursor, arity=1)
        if not isinstance(last_id, int):
            last_id = -1
        stmt = stmt.where(AgentRun.id < last_id)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = [RunRead.model_validate(r) for r in uow.session.scalars(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    return RunPage(items=rows, next_cursor=encode_cursor([rows[-1].id]) if more and rows else None)
