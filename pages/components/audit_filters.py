"""The audit log's filter bar: actor, action, entity, time range and free text, prefilled from
the page's query parameters (``?entity=review_item&entity_id=42`` from an entity's page)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import streamlit as st

from services import audit_log
from services.audit_log import AuditFacets, AuditFilter

_ANY = "(any)"


def _query_int(name: str) -> int | None:
    raw = st.query_params.get(name)
    if raw is None or not raw.strip().isdigit() or len(raw.strip()) > 19:
        return None
    return int(raw)


def _query_text(name: str, limit: int) -> str | None:
    raw = st.query_params.get(name)
    return raw[:limit] if raw else None


def _day_bounds(start: date | None, end: date | None) -> tuple[datetime | None, datetime | None]:
    since = datetime.combine(start, time.min, UTC) if start else None
    until = datetime.combine(end, time.min, UTC) + timedelta(days=1) if end else None
    return since, until


def filter_bar(facets: AuditFacets) -> AuditFilter:
    """The filter the person set (InvalidInput from the service for a bad combination)."""
    entity = _query_text("entity", 64)
    cols = st.columns(4)
    actors: dict[Any, str] = {None: _ANY} | {uid: label for uid, label in facets.actors}
    actor_id = cols[0].selectbox("Actor", list(actors), format_func=actors.__getitem__)
    action = cols[1].selectbox("Action", [_ANY, *facets.actions])
    types = [_ANY, *facets.entity_types]
    if entity and entity not in types:
        types.append(entity)
    entity_type = cols[2].selectbox(
        "Entity", types, index=types.index(entity) if entity in types else 0
    )
    entity_id_text = cols[3].text_input(
        "Entity id", value=str(_query_int("entity_id") or ""), max_chars=19
    )
    cols = st.columns([1, 1, 2])
    start = cols[0].date_input("From", value=None, format="YYYY-MM-DD")
    end = cols[1].date_input("To (inclusive)", value=None, format="YYYY-MM-DD")
    text = cols[2].text_input("Text", max_chars=200, placeholder="reason, names, values …")
    since, until = _day_bounds(
        start if isinstance(start, date) else None, end if isinstance(end, date) else None
    )
    entity_id: Any = entity_id_text.strip() or None
    return audit_log.parse_filter(
        actor_id=actor_id,
        action=None if action == _ANY else action,
        entity_type=None if entity_type == _ANY else entity_type,
        entity_id=entity_id,
        since=since,
        until=until,
        text=text,
    )
