"""The generic ``action`` kind: what an external agent holds for review, validated and shaped."""

from __future__ import annotations

import json
import math
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from services.errors import InvalidInput

MAX_DATA_BYTES = 65_536
MAX_TEXT = 20_000


class ActionDisplay(StrEnum):
    """How the console shows the action to the reviewer."""

    TEXT = "text"  # markdown-safe text (shown as plain text, never rendered as markup)
    KEY_VALUE = "key_value"  # a flat table of data's keys and values
    DIFF = "diff"  # data["diff"] is a unified diff
    EMAIL = "email"  # data has to, subject, body


class ActionCreate(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(default="", max_length=4000)
    data: dict[str, Any] = Field(default_factory=dict)
    display: ActionDisplay = ActionDisplay.TEXT


def _finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput("The action's data holds a number that is not finite (NaN/Infinity).")
    if isinstance(value, dict):
        for v in value.values():
            _finite(v)
    elif isinstance(value, list):
        for v in value:
            _finite(v)


def _text(data: dict[str, Any], key: str, *, display: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"A {display} action needs data.{key} as non-empty text.")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"data.{key} is too long ({len(value)} > {MAX_TEXT} characters).")
    return value


def validate_action(action_in: ActionCreate) -> dict[str, Any]:
    """The review payload of an external action, or InvalidInput saying what is wrong with it."""
    data = action_in.data
    _finite(data)
    size = len(json.dumps(data, default=str))
    if size > MAX_DATA_BYTES:
        raise InvalidInput(f"The action's data is too large ({size} > {MAX_DATA_BYTES} bytes).")
    display = action_in.display
    if display is ActionDisplay.KEY_VALUE:
        nested = [k for k, v in data.items() if isinstance(v, dict | list)]
        if nested:
            raise InvalidInput(
                f"A key_value action shows a flat table; data.{nested[0]} holds a nested value."
            )
    elif display is ActionDisplay.DIFF:
        _text(data, "diff", display="diff")
    elif display is ActionDisplay.EMAIL:
        for key in ("to", "subject", "body"):
            _text(data, key, display="email")
    return {
        "title": action_in.title.strip(),
        "summary": action_in.summary.strip(),
        "display": display.value,
        "data": data,
    }
