"""The three ways a message leaves: SMTP mail, a signed webhook POST, a chat tool via apprise."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import make_msgid
from functools import lru_cache
from typing import Any

import apprise
import httpx

from services.config import get_settings

log = logging.getLogger(__name__)
SECRET_PREFIX = "whsec_"


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None = None
    error: str | None = None


def new_signing_secret() -> str:
    """A fresh Standard Webhooks secret (``whsec_`` + base64 of 32 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` + base64 HMAC-SHA256 over ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


@lru_cache(maxsize=1)
def _http() -> httpx.Client:
    timeout = get_settings().notify_http_timeout_s
    return httpx.Client(timeout=timeout, follow_redirects=False)


def send_webhook(
    url: str, *, msg_id: str, timestamp: int, payload: dict[str, Any], secret: str | None
) -> SendResult:
    """POST the JSON payload, signed when the endpoint has a secret; 2xx is success."""
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "user-agent": "revo-console-webhooks",
    }
    if secret:
        headers["webhook-signature"] = sign(secret, msg_id, timestamp, body)
    try:
        response = _http().post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return SendResult(ok=False, error=f"webhook delivery failed: {type(exc).__name__}: {exc}")
    if 200 <= response.status_code < 300:
        return SendResult(ok=True, status_code=response.status_code)
    snippet = response.text[:200].replace("\n", " ")
    return SendResult(
        ok=False,
        status_code=response.status_code,
        error=f"webhook answered HTTP {response.status_code}: {snippet}",
    )


def send_email(to: str, *, subject: str, body: str) -> SendResult:
    """Send through the outbound-mail SMTP settings; without REVO_SMTP_HOST it is sandboxed."""
    settings = get_settings()
    if not settings.smtp_host:
        return SendResult(ok=True, error="sandboxed: REVO_SMTP_HOST is not set")
    mime = MimeMessage()
    mime["From"] = settings.mail_from
    mime["To"] = to
    mime["Subject"] = subject
    mime["Message-ID"] = make_msgid(domain=settings.mail_from.rsplit("@", 1)[-1] or "localhost")
    mime.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(mime)
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return SendResult(ok=False, status_code=exc.smtp_code, error=f"SMTP refused: {reply}")
    except (smtplib.SMTPException, OSError) as exc:
        return SendResult(ok=False, error=f"SMTP delivery failed: {exc}")
    return SendResult(ok=True, status_code=250)


def send_apprise(url: str, *, subject: str, body: str) -> SendResult:
    """Notify a chat tool (Slack, Teams, Mattermost, Discord, ntfy …) by its apprise URL."""
    sender = apprise.Apprise()
    if not sender.add(url):
        return SendResult(ok=False, error="apprise does not recognise this notification URL")
    try:
        ok = bool(sender.notify(title=subject, body=body))
    except Exception as exc:  # a plugin's own failure must not take the worker down
        log.warning("apprise plugin failed", exc_info=True)
        return SendResult(ok=False, error=f"chat delivery failed: {type(exc).__name__}")
    return SendResult(ok=ok, error=None if ok else "the chat service did not accept the message")


def valid_apprise_url(url: str) -> bool:
    """Whether apprise knows how to send to this URL."""
    return bool(apprise.Apprise().add(url))
