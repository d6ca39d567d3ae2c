"""A small structured answer to ask a model for, and the call it records."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select

from domain.models import LLMCall
from services import db


class Greeting(BaseModel):
    subject: str = Field(min_length=3, max_length=100)
    confidence: float = Field(ge=0, le=1)
    tone: Literal["formal", "casual"] = "formal"


VALID = '{"subject": "Hello there", "confidence": 0.8, "tone": "casual"}'
MESSAGES = [
    {"role": "system", "content": "You write greetings."},
    {"role": "user", "content": "Greet Ada."},
]


def only_row() -> LLMCall:
    """The one recorded model call (fails unless there is exactly one)."""
    with db.session_factory()() as session:
        rows = session.scalars(select(LLMCall)).all()
    assert len(rows) == 1, rows
    return rows[0]
