"""Mail from approved drafts goes through a real SMTP server on loopback when one is configured."""

from __future__ import annotations

from collections.abc import Callable

from domain.enums import EmailStatus, ReviewKind, ReviewStatus, Role
from services import review
from services.tenants import TenantWithUsers
from tests.integration import review_support as rs
from tests.support.console import free_port
from tests.support.mail import Mailbox

Pair = tuple[TenantWithUsers, TenantWithUsers]


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
    two_tenants: Pair, settings: Callable[..., None]
) -> None:
    north, _ = two_tenants
    settings(smtp_host="127.0.0.1", smtp_port=free_port())
    item = rs.draft(north.tenant.id, ReviewKind.OUTREACH_EMAIL, rs.lead(north.tenant.id))
    failed = review.approve(actor=north.actor(Role.SDR), item_id=item.id, seen_version=1)
    assert failed.item.status is ReviewStatus.FAILED
    assert "SMTP delivery failed" in (failed.item.execution_error or "")
