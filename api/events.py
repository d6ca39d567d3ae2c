"""/v1/events: push events as JSON, through the same connectors and quarantine as `revo ingest`."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import scoped
from services.actor import Actor
from services.api_tokens import Scope
from services.ingest.service import IngestReport, ingest_upload
from services.investigations.dto import EventSource

router = APIRouter(prefix="/v1", tags=["events"])
Writer = Annotated[Actor, Depends(scoped(Scope.EVENTS_WRITE))]


class EventBatch(BaseModel):
    """Records in the connector's JSON format (see README: CI build/deploy records, log lines)."""

    source: Literal["ci", "logs"]
    service: str | None = Field(default=None, max_length=200)
    records: list[dict[str, Any]] = Field(min_length=1, max_length=5000)


@router.post("/events", response_model=IngestReport)
async def push_events(batch: EventBatch, actor: Writer) -> IngestReport:
    """Ingest the records; bad ones are quarantined with their reason and the rest go in."""
    content = "\n".join(json.dumps(r, separators=(",", ":")) for r in batch.records).encode()
    return await run_in_threadpool(
        ingest_upload,
        actor=actor,
        source=EventSource(batch.source),
        filename=f"api-{batch.source}.jsonl",
        content=content,
        service=batch.service,
    )
