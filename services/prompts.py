"""Versioned prompt templates per tenant, seeded from services/agents/prompts/*.toml.

A template is the system text and the user text joined by ``USER_MARKER``; ``{name}`` fields
are filled from the agent's inputs. Exactly one version per key is active; activating an older
version is the rollback. Seeding runs on first use per tenant and adds file versions a tenant
does not have yet (activating them only where the key has no active version).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.models import Prompt
from services import audit
from services.actor import Actor
from services.errors import Conflict, InvalidInput, NotFound
from services.permissions import Action, require
from services.uow import UnitOfWork

PROMPT_DIR = Path(__file__).resolve().parent / "agents" / "prompts"
USER_MARKER = "\n\n=== user ===\n\n"


class PromptFile(BaseModel):
    key: str
    version: int
    parameters: dict[str, Any]
    template: str


class PromptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    version: int
    template: str
    parameters: dict[str, Any]
    is_active: bool
    created_at: datetime

    @property
    def hash(self) -> str:
        return prompt_hash(self.template, self.parameters)

    def messages(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        """The chat messages with ``{fields}`` filled in; InvalidInput names a missing field."""
        system, _, user = self.template.partition(USER_MARKER)
        try:
            return [
                {"role": "system", "content": system.format_map(values)},
                {"role": "user", "content": user.format_map(values)},
            ]
        except (KeyError, IndexError, ValueError) as exc:
            raise InvalidInput(
                f"Prompt {self.key} v{self.version} uses a field the agent does not provide "
                f"or has a stray brace: {exc}"
            ) from exc


def prompt_hash(template: str, parameters: dict[str, Any]) -> str:
    """The SHA-256 of a template and its model parameters (what the model actually saw)."""
    blob = template + "\x00" + json.dumps(parameters, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


@lru_cache(maxsize=1)
def repo_prompts() -> tuple[PromptFile, ...]:
    """The prompt files shipped in the repository."""
    files = []
    for path in sorted(PROMPT_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text())
        files.append(
            PromptFile(
                key=data["key"],
                version=int(data["version"]),
                parameters=dict(data.get("parameters", {})),
                template=data["system"].strip() + USER_MARKER + data["user"].strip(),
            )
        )
    return tuple(files)


def _seed(session: Session, tenant_id: int) -> int:
    have = {(k, v) for k, v in session.execute(select(Prompt.key, Prompt.version)).all()}
    active = set(session.scalars(select(Prompt.key).where(Prompt.is_active)).all())
    added = 0
    for f in repo_prompts():
        if (f.key, f.version) in have:
            continue
        session.add(
            Prompt(
                tenant_id=tenant_id,
                key=f.key,
                version=f.version,
                template=f.template,
                parameters=f.parameters,
                is_active=f.key not in active,
            )
        )
        active.add(f.key)
        added += 1
    return added


def ensure_seeded(*, tenant_id: int) -> None:
    """Add the repository's prompt versions this tenant lacks (system work, idempotent)."""
    try:
        with UnitOfWork(None, tenant_id=tenant_id) as uow:
            if _seed(uow.session, tenant_id):
                uow.commit()
    except Conflict:
        pass  # another process seeded the same tenant at the same moment


def load_active(session: Session, key: str) -> PromptRead:
    """The active version of a prompt in the session's tenant; NotFound if there is none."""
    row = session.scalar(select(Prompt).where(Prompt.key == key, Prompt.is_active))
    if row is None:
        raise NotFound(f"There is no active prompt {key!r}; activate a version first.")
    return PromptRead.model_validate(row)


def list_prompts(*, actor: Actor, key: str | None = None) -> list[PromptRead]:
    """Every version of every prompt (or of one key), newest first per key."""
    require(actor, Action.MANAGE_PROMPTS)
    ensure_seeded(tenant_id=actor.tenant_id)
    with UnitOfWork(actor, readonly=True) as uow:
        query = select(Prompt).order_by(Prompt.key, Prompt.version.desc())
        if key is not None:
            query = query.where(Prompt.key == key)
        return [PromptRead.model_validate(r) for r in uow.session.scalars(query)]


def create_version(
    *, actor: Actor, key: str, template: str, parameters: dict[str, Any]
) -> PromptRead:
    """Save a new, inactive version of a prompt."""
    require(actor, Action.MANAGE_PROMPTS)
    if USER_MARKER.strip() not in template:
        raise InvalidInput(
            f"A prompt needs a system part and a user part split by {USER_MARKER!r}."
        )
    ensure_seeded(tenant_id=actor.tenant_id)
    with UnitOfWork(actor) as uow:
        latest = uow.session.scalar(select(func.max(Prompt.version)).where(Prompt.key == key))
        if latest is None:
            raise NotFound(f"There is no prompt {key!r}.")
        row = Prompt(
            tenant_id=actor.tenant_id,
            key=key,
            version=latest + 1,
            template=template,
            parameters=parameters,
            is_active=False,
            created_by_id=actor.user_id,
        )
        uow.session.add(row)
        uow.session.flush()
        audit.record(
            uow,
            action="prompt.version_created",
            entity_type="prompt",
            entity_id=row.id,
            after={"key": key, "version": row.version, "hash": prompt_hash(template, parameters)},
        )
        uow.commit()
        return PromptRead.model_validate(row)


def activate(*, actor: Actor, prompt_id: int) -> PromptRead:
    """Make one version the active one for its key (the rollback)."""
    require(actor, Action.MANAGE_PROMPTS)
    with UnitOfWork(actor) as uow:
        row = uow.get(Prompt, prompt_id, missing=f"Prompt version #{prompt_id} does not exist.")
        previous = load_active(uow.session, row.key) if not row.is_active else None
        uow.update_guarded(
            Prompt, Prompt.key == row.key, Prompt.is_active, Prompt.id != row.id, is_active=False
        )
        row.is_active = True
        audit.record(
            uow,
            action="prompt.activated",
            entity_type="prompt",
            entity_id=row.id,
            before={"active_version": previous.version if previous else row.version},
            after={"key": row.key, "active_version": row.version},
        )
        uow.commit()
        return PromptRead.model_validate(row)
