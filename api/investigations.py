"""/v1/investigations: search (cursor-paginated) and read; /v1/events/{id}: one event."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import scoped
from api.params import RowId
from services.actor import Actor
from services.api_tokens import Scope
from services.investigations import query, service
from services.investigations.dto import (
    EventRead,
    InvestigationFilter,
    InvestigationRead,
    InvestigationStatus,
    Severity,
)
from services.pagination import Page

router = APIRouter(prefix="/v1", tags=["investigations"])
Reader = Annotated[Actor, Depends(scoped(Scope.INVESTIGATIONS_READ))]


@router.get("/investigations", response_model=Page[InvestigationRead])
def search_investigations(
    actor: Reader,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[list[InvestigationStatus] | None, Query()] = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    service_name: Annotated[str | None, Query(alias="service", max_length=200)] = None,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> Page[InvestigationRead]:
    """Investigations matching the filters, newest detection first; follow ``next_cursor``."""
    filters = InvestigationFilter(
        text=q, statuses=status or [], severities=severity or [], service=service_name, tag=tag
    )
    return query.search(actor=actor, filters=filters, cursor=cursor, limit=limit)


@router.get("/investigations/{investigation_id}", response_model=InvestigationRead)
def get_investigation(investigation_id: RowId, actor: Reader) -> InvestigationRead:
    """One investigation."""
    return service.get(actor=actor, investigation_id=investigation_id)


@router.get("/events/{event_id}", response_model=EventRead)
def get_event(event_id: RowId, actor: Reader) -> EventRead:
    """One ingested event."""
    return query.get_event(actor=actor, event_id=event_id)
