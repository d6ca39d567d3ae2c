"""Outbound mail: sandboxed (stored only) by default, real SMTP when REVO_SMTP_HOST is set."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage as MimeMessage
from email.utils import make_msgid

from domain.base import utcnow
from domain.enums import EmailStatus
from domain.models import EmailMessage
from services.config import get_settings


class DeliveryFailed(Exception):
    """The SMTP server did not take the message; the text says why."""


def deliver(message: EmailMessage) -> None:
    """Send (or sandbox) one stored message, setting its status; DeliveryFailed if refused."""
    settings = get_settings()
    domain = settings.mail_from.rsplit("@", 1)[-1] or "localhost"
    message.message_id = make_msgid(domain=domain)
    if not settings.smtp_host:
        message.status = EmailStatus.SANDBOXED
        return
    mime = MimeMessage()
    mime["From"] = message.from_addr
    mime["To"] = message.to_addr
    mime["Subject"] = message.subject
    mime["Message-ID"] = message.message_id
    mime.set_content(message.body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(mime)
    except (smtplib.SMTPException, OSError) as exc:
        message.status = EmailStatus.FAILED
        message.error = _describe(exc)
        raise DeliveryFailed(message.error) from exc
    message.status = EmailStatus.SENT
    message.sent_at = utcnow()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [
            f"{addr}: {code} {reply.decode(errors='replace')}"
            for addr, (code, reply) in exc.recipients.items()
        ]
        return "SMTP server refused the recipient(s): " + "; ".join(parts)
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else exc.smtp_error
        )
        return f"SMTP server refused the message: {exc.smtp_code} {reply}"
    return f"SMTP delivery failed: {exc}"
