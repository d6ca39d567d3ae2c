"""Fixtures several integration modules share: a database no migration has touched, a mailbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from tests.support.console import free_port
from tests.support.databases import throwaway_postgres
from tests.support.mail import Mailbox


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own that no migration has touched, on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with throwaway_postgres("revo_mig") as url:
        yield url


@pytest.fixture
def mailbox(settings: Callable[..., None]) -> Iterator[Mailbox]:
    """An SMTP server on loopback that the settings send mail to."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    settings(smtp_host="127.0.0.1", smtp_port=port, mail_from="sales@north.test")
    try:
        yield box
    finally:
        controller.stop()
