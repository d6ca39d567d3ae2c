"""Turning what a person typed into a service's input DTO, with a message instead of a crash."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from services.errors import InvalidInput

T = TypeVar("T", bound=BaseModel)

_MAX_PROBLEMS = 5


def parse(model: type[T], *, hint: str = "", **values: Any) -> T:
    """The DTO built from form values, or InvalidInput saying which fields are wrong and why
    (after ``hint``, the page's own words for what a valid form holds)."""
    try:
        return model(**values)
    except ValidationError as exc:
        raise InvalidInput(" ".join(p for p in (hint, _describe(exc)) if p)) from exc


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors()[:_MAX_PROBLEMS]:
        field = " ".join(str(part) for part in error["loc"]).replace("_", " ")
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{field}: {message}" if field else message)
    return "; ".join(problems) + "."
