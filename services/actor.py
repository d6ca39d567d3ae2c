"""Who is acting. Every public service function takes one."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.enums import Role


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: int
    tenant_id: int
    role: Role
    label: str = ""
    # Set when an API token's service account acts: it never holds decision rights.
    token_id: int | None = None

    @property
    def display(self) -> str:
        return self.label or f"user #{self.user_id}"
