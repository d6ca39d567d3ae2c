"""Executing an accepted root-cause hypothesis: write it into its investigation (internal)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from domain.enums import LinkStatus
from domain.models import Event, EventLink, Investigation, InvestigationNote, ReviewItem
from services import audit
from services.review.subjects import ExecutionFailed, first_text, get_subject
from services.uow import UnitOfWork

WRITTEN = ["root_cause", "remediation"]


def write_hypothesis(uow: UnitOfWork, item: ReviewItem, now: datetime) -> str:
    """Make the hypothesis the investigation's root cause, link the events it cites as
    accepted, and leave a note with the agent's summary; audited on the investigation."""
    investigation: Investigation = get_subject(uow, Investigation, item)
    # The investigator agent drafts title + explanation; hand-made drafts may say root_cause.
    drafted = "\n".join(first_text(item.payload, key) for key in ("title", "explanation")).strip()
    hypothesis = first_text(item.payload, "root_cause", "hypothesis") or drafted
    if not hypothesis:
        raise ExecutionFailed("The hypothesis is empty.")
    before = audit.snapshot(investigation, WRITTEN)
    investigation.root_cause = hypothesis
    notes = first_text(item.payload, "notes", "evidence", "remediation")
    if notes:
        investigation.remediation = notes
    investigation.updated_at = now
    cited = _link_cited_events(uow, item, investigation, now)
    summary = first_text(item.payload, "summary")
    body = f"Accepted root-cause hypothesis (review item #{item.id}): {hypothesis}"
    if summary:
        body += f"\nInvestigator's summary: {summary}"
    if cited:
        body += f"\nCited events: {', '.join(f'#{e}' for e in cited)}"
    uow.session.add(
        InvestigationNote(
            tenant_id=item.tenant_id,
            investigation_id=investigation.id,
            author_id=item.decided_by_id,
            author_label=uow.actor.display if uow.actor else "system",
            body=body,
        )
    )
    uow.session.flush()
    audit.record(
        uow,
        action="investigation.hypothesis_accepted",
        entity_type="investigation",
        entity_id=investigation.id,
        before=before,
        after={**audit.snapshot(investigation, WRITTEN), "cited_event_ids": cited},
        reason=f"review item #{item.id}",
        tenant_id=item.tenant_id,
    )
    return f"root cause written to investigation #{investigation.id}, citing {len(cited)} events"


def _link_cited_events(
    uow: UnitOfWork, item: ReviewItem, investigation: Investigation, now: datetime
) -> list[int]:
    """Attach the events the hypothesis cites to the investigation, as accepted links."""
    raw = item.payload.get("event_ids") or item.payload.get("cited_event_ids") or []
    wanted = {int(e) for e in raw if isinstance(e, int | str) and str(e).isdigit()}
    if not wanted:
        return []
    found = set(uow.session.scalars(select(Event.id).where(Event.id.in_(wanted))))
    links = {
        link.event_id: link
        for link in uow.session.scalars(
            select(EventLink).where(
                EventLink.investigation_id == investigation.id, EventLink.event_id.in_(found)
            )
        )
    }
    for event_id in sorted(found):
        link = links.get(event_id)
        if link is None:
            link = EventLink(
                tenant_id=item.tenant_id,
                investigation_id=investigation.id,
                event_id=event_id,
                rule="rca_hypothesis",
                reasons=[f"cited by the hypothesis in review item #{item.id}"],
            )
            uow.session.add(link)
        link.status = LinkStatus.ACCEPTED
        link.decided_by_id = item.decided_by_id
        link.decided_at = now
    return sorted(found)
