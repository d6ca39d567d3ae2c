"""Create, edit, move and annotate investigations; every change is audited."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select

from domain import transitions
from domain.base import utcnow
from domain.enums import InvestigationStatus
from domain.models import Investigation, InvestigationNote, User
from services import audit
from services.actor import Actor
from services.errors import Conflict, InvalidInput
from services.investigations.dto import (
    InvestigationCreate,
    InvestigationRead,
    InvestigationUpdate,
    NoteRead,
)
from services.permissions import Action, require
from services.uow import UnitOfWork

N = InvestigationStatus
EDITABLE = (
    "title",
    "description",
    "severity",
    "priority",
    "detected_at",
    "started_at",
    "root_cause",
    "remediation",
    "lessons_learned",
    "service",
    "component",
    "tags",
    "assignee_id",
)


def _load(uow: UnitOfWork, investigation_id: int) -> Investigation:
    row = uow.get(
        Investigation, investigation_id, missing=f"There is no investigation #{investigation_id}."
    )
    return row


def _check_assignee(uow: UnitOfWork, user_id: int | None) -> None:
    if user_id is None or uow.actor is None:
        return
    tenant = uow.session.scalar(select(User.tenant_id).where(User.id == user_id))
    if tenant != uow.actor.tenant_id:
        raise InvalidInput(f"There is no user #{user_id} in your organisation to assign.")


def _check_times(detected: datetime | None, started: datetime | None) -> None:
    now = utcnow()
    for label, value in (("detected", detected), ("started", started)):
        if value is not None and value > now:
            raise InvalidInput(f"The {label} time lies in the future.")


def create(*, actor: Actor, investigation_in: InvestigationCreate) -> InvestigationRead:
    """Open a new investigation."""
    require(actor, Action.EDIT_INVESTIGATION)
    now = utcnow()
    _check_times(investigation_in.detected_at, investigation_in.started_at)
    with UnitOfWork(actor) as uow:
        _check_assignee(uow, investigation_in.assignee_id)
        row = Investigation(
            tenant_id=actor.tenant_id,
            **investigation_in.model_dump(exclude={"detected_at"}),
            detected_at=investigation_in.detected_at or now,
            status=N.OPEN,
            created_by_id=actor.user_id,
            created_at=now,
        )
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow,
            action="investigation.created",
            entity_type="investigation",
            entity_id=row.id,
            after=audit.snapshot(row),
        )
        uow.commit()
        return InvestigationRead.model_validate(row)


def get(*, actor: Actor, investigation_id: int) -> InvestigationRead:
    """One investigation of the actor's tenant."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    with UnitOfWork(actor, readonly=True) as uow:
        return InvestigationRead.model_validate(_load(uow, investigation_id))


def update(
    *, actor: Actor, investigation_id: int, investigation_in: InvestigationUpdate
) -> InvestigationRead:
    """Change the fields that are set; Conflict when someone changed it since `version`."""
    require(actor, Action.EDIT_INVESTIGATION)
    changes = {
        k: getattr(investigation_in, k) for k in investigation_in.model_fields_set if k in EDITABLE
    }
    for required in ("title", "severity", "priority", "detected_at"):
        if required in changes and changes[required] is None:
            raise InvalidInput(f"The {required.replace('_', ' ')} cannot be empty.")
    _check_times(changes.get("detected_at"), changes.get("started_at"))
    with UnitOfWork(actor) as uow:
        row = _load(uow, investigation_id)
        if row.row_version != investigation_in.version:
            raise Conflict(
                f"Investigation #{investigation_id} was changed by someone else since you "
                "opened it. Reload to see their changes, then edit again."
            )
        if "assignee_id" in changes:
            _check_assignee(uow, changes["assignee_id"])
        changed = [k for k, v in changes.items() if getattr(row, k) != v]
        if not changed:
            return InvestigationRead.model_validate(row)
        settled = row.status in (N.RESOLVED, N.CLOSED)
        if settled and "root_cause" in changed and not (changes["root_cause"] or "").strip():
            raise InvalidInput("A resolved investigation keeps its root cause.")
        before = audit.snapshot(row, changed)
        for key in changed:
            setattr(row, key, changes[key])
        row.updated_at = utcnow()
        uow.session.flush()
        audit.record(
            uow,
            action="investigation.updated",
            entity_type="investigation",
            entity_id=row.id,
            before=before,
            after=audit.snapshot(row, changed),
        )
        uow.commit()
        return InvestigationRead.model_validate(row)


def change_status(
    *,
    actor: Actor,
    investigation_id: int,
    version: int,
    status: InvestigationStatus,
    root_cause: str | None = None,
    reason: str | None = None,
) -> InvestigationRead:
    """Move an investigation along open → in progress → resolved → closed (or reopen it)."""
    require(actor, Action.EDIT_INVESTIGATION)
    now = utcnow()
    with UnitOfWork(actor) as uow:
        row = _load(uow, investigation_id)
        if row.row_version != version:
            raise Conflict(
                f"Investigation #{investigation_id} was changed by someone else since you "
                "opened it. Reload and try again."
            )
        fields = ["status", "root_cause", "started_at", "resolved_at", "closed_at"]
        before = audit.snapshot(row, fields)
        row.move_to(status, now, root_cause)
        uow.session.flush()
        reopened = before["status"] in (N.RESOLVED.value, N.CLOSED.value)
        action = "investigation.reopened" if reopened else f"investigation.{status.value}"
        audit.record(
            uow,
            action=action,
            entity_type="investigation",
            entity_id=row.id,
            before=before,
            after=audit.snapshot(row, fields),
            reason=reason,
        )
        uow.commit()
        return InvestigationRead.model_validate(row)


def add_note(
    *, actor: Actor, investigation_id: int, body: str, corrects_note_id: int | None = None
) -> NoteRead:
    """Append a note; a correction is a new note that points at the one it corrects."""
    require(actor, Action.EDIT_INVESTIGATION)
    text = body.strip()
    if not text:
        raise InvalidInput("A note cannot be empty.")
    if len(text) > 20_000:
        raise InvalidInput("A note can hold at most 20,000 characters.")
    with UnitOfWork(actor) as uow:
        _load(uow, investigation_id)
        if corrects_note_id is not None:
            target = uow.session.get(InvestigationNote, corrects_note_id)
            if target is None or target.investigation_id != investigation_id:
                raise InvalidInput(f"Note #{corrects_note_id} is not a note of this investigation.")
        note = InvestigationNote(
            tenant_id=actor.tenant_id,
            investigation_id=investigation_id,
            author_id=actor.user_id,
            author_label=actor.display,
            body=text,
            corrects_note_id=corrects_note_id,
        )
        uow.session.add(note)
        uow.session.flush()
        audit.record(
            uow,
            action="investigation.note_added",
            entity_type="investigation",
            entity_id=investigation_id,
            after={"note_id": note.id, "body": text, "corrects": corrects_note_id},
        )
        uow.commit()
        return NoteRead.model_validate(note)


def list_notes(*, actor: Actor, investigation_id: int) -> list[NoteRead]:
    """The notes of an investigation, oldest first."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    with UnitOfWork(actor, readonly=True) as uow:
        _load(uow, investigation_id)
        rows = uow.session.scalars(
            select(InvestigationNote)
            .where(InvestigationNote.investigation_id == investigation_id)
            .order_by(InvestigationNote.id)
        ).all()
        return [NoteRead.model_validate(r) for r in rows]


class UserOption(BaseModel):
    id: int
    label: str


def next_statuses(*, status: InvestigationStatus) -> list[InvestigationStatus]:
    """The statuses an investigation in ``status`` may move to."""
    return sorted(transitions.INVESTIGATION_TRANSITIONS[status], key=list(N).index)


def assignable_users(*, actor: Actor) -> list[UserOption]:
    """Active users of the actor's tenant, for the assignee picker."""
    require(actor, Action.VIEW_INVESTIGATIONS)
    with UnitOfWork(actor, readonly=True) as uow:
        rows = uow.session.execute(
            select(User.id, User.display_name, User.role)
            .where(User.tenant_id == actor.tenant_id, User.is_active.is_(True))
            .order_by(User.display_name)
        ).all()
    return [UserOption(id=i, label=f"{name} ({role.value})") for i, name, role in rows]
