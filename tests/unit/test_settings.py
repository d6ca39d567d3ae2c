"""The settings class refuses a database URL the console cannot use, naming REVO_DATABASE_URL."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.config import Settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "mysql://u@h/db",
            "REVO_DATABASE_URL uses 'mysql'; use sqlite:/// or postgresql+psycopg://",
        ),
        ("not a url", "REVO_DATABASE_URL 'not a url' is not a database URL"),
        ("", "REVO_DATABASE_URL '' is not a database URL"),
    ],
)
def test_a_database_url_the_console_cannot_use_is_refused_by_name(url: str, expected: str) -> None:
    with pytest.raises(ValidationError, match=expected.replace("+", r"\+")):
        Settings(database_url=url)


@pytest.mark.parametrize(
    "url",
    ["sqlite:///./var/revo.db", "sqlite://", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"],
)
def test_sqlite_and_postgresql_urls_are_accepted_as_written(url: str) -> None:
    assert Settings(database_url=url).database_url == url
