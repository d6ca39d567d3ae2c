"""Mail from approved drafts goes through a real SMTP server on loopback when one is configured."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from domain.enums import EmailStatus, ReviewKind, ReviewStatus, Role
from services import review
from services.config import get_settings
from services.tenants import TenantWithUsers
from tests.integration import review_support as rs

Pair = tuple[TenantWithUsers, TenantWithUsers]


class Mailbox:
    """An SMTP handler that keeps what it accepts, or refuses everything while ``refuse`` is set."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.refuse = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "550 5.7.1 Message rejected by policy"
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("REVO_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REVO_SMTP_PORT", str(port))
    monkeypatch.setenv("REVO_MAIL_FROM", "sales@north.test")
    get_settings.cache_clear()
    try:
        yield box
    finally:
        controller.stop()
        get_settings.cache_clear()


def test_an_approved_outreach_email_is_delivered_over_smtp(
    two_tenants: Pair, mailbox: Mailbox
) -> None:
    north, _ = two_tenants
    item = rs.draft(north.tenant.id, ReviewKind.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    result = review.approve(actor=north.actor(Role.SDR), item_id=item.id, seen_version=1)
    assert result.item.status is ReviewStatus.EXECUTED
    assert len(mailbox.messages) == 1
    envelope = mailbox.messages[0]
    assert envelope.mail_from == "sales@north.test"
    assert envelope.rcpt_tos == ["jane@example.test"]
    text = envelope.content.decode()
    assert "Subject: Quick question" in text and "Shall we talk?" in text
    assert rs.count_emails(status=EmailStatus.SENT) == 1


def test_a_refused_message_fails_the_item_with_the_error_and_an_admin_retry_sends_it(
    two_tenants: Pair, mailbox: Mailbox
) -> None:
    north, _ = two_tenants
    invoice_id = rs.invoice(north.tenant.id)
    item = rs.draft(north.tenant.id, ReviewKind.DUNNING_NOTICE, invoice_id)
    mailbox.refuse = True
    failed = review.approve(actor=north.actor(Role.FINANCE), item_id=item.id, seen_version=1)
    assert failed.item.status is ReviewStatus.FAILED
    assert "550" in (failed.item.execution_error or "")
    assert "Message rejected by policy" in (failed.item.execution_error or "")
    assert rs.count_emails(status=EmailStatus.FAILED) == 1 and mailbox.messages == []

    mailbox.refuse = False
    retried = review.retry_execution(
        actor=north.actor(Role.ADMIN), item_id=item.id, seen_version=failed.item.row_version
    )
    assert retried.item.status is ReviewStatus.EXECUTED and retried.item.execution_error is None
    assert len(mailbox.messages) == 1 and mailbox.messages[0].rcpt_tos == ["ap@example.test"]
    assert rs.count_emails(status=EmailStatus.SENT) == 1


def test_an_unreachable_smtp_server_fails_the_item_instead_of_crashing(
    two_tenants: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    north, _ = two_tenants
    monkeypatch.setenv("REVO_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REVO_SMTP_PORT", str(_free_port()))
    get_settings.cache_clear()
    try:
        item = rs.draft(north.tenant.id, ReviewKind.OUTREACH_EMAIL, rs.lead(north.tenant.id))
        failed = review.approve(actor=north.actor(Role.SDR), item_id=item.id, seen_version=1)
    finally:
        get_settings.cache_clear()
    assert failed.item.status is ReviewStatus.FAILED
    assert "SMTP delivery failed" in (failed.item.execution_error or "")
