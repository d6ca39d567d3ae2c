"""Form values become a DTO or an InvalidInput that says which field is wrong, never a crash."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, field_validator

from services import forms
from services.errors import InvalidInput


class _Thing(BaseModel):
    name: str = Field(min_length=1, max_length=10)
    count: int = 0

    @field_validator("count")
    @classmethod
    def _small(cls, value: int) -> int:
        if value > 3:
            raise ValueError("at most 3")
        return value


def test_good_values_make_the_dto() -> None:
    assert forms.parse(_Thing, name="a", count=2) == _Thing(name="a", count=2)


def test_bad_values_name_each_field_after_the_pages_hint() -> None:
    with pytest.raises(InvalidInput) as info:
        forms.parse(_Thing, hint="Give it a name.", name="", count=9)
    message = info.value.message
    assert message.startswith("Give it a name. name: String should have at least 1 character")
    assert "count: at most 3." in message and "Value error" not in message


def test_a_flood_of_problems_is_cut_to_the_first_five() -> None:
    class Wide(BaseModel):
        a: int
        b: int
        c: int
        d: int
        e: int
        f: int

    with pytest.raises(InvalidInput) as info:
        forms.parse(Wide)
    assert info.value.message.count("Field required") == 5
