"""llm call load time: llm_calls.load_ms, the model load the client measured before the call

NULL means no load was measured: the model was already loaded, the server is not Ollama, or the
pre-load step failed. Existing rows keep NULL.

Revision ID: r12loadms
Revises: r11audit
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r12loadms"
down_revision: str | None = "r11audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("llm_calls", sa.Column("load_ms", sa.Integer(), nullable=True))


def downgrade() -> None:
    # A plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not batch mode: recreating llm_calls
    # would break the metrics triggers that name it.
    op.drop_column("llm_calls", "load_ms")
