"""Channel secrets at rest: Fernet, keyed from REVO_SECRET_KEY (never logged, never shown)."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from services.config import get_settings
from services.errors import InvalidInput


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    digest = hashlib.sha256(b"revo-notify:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(plain: str) -> str:
    """The text encrypted for storage."""
    key = get_settings().secret_key.get_secret_value()
    return _fernet(key).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    """The stored text decrypted; InvalidInput when the secret key changed since."""
    key = get_settings().secret_key.get_secret_value()
    try:
        return _fernet(key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise InvalidInput(
            "A stored channel secret cannot be decrypted (REVO_SECRET_KEY changed?). "
            "Enter the channel's URL or secret again."
        ) from exc


def mask(plain: str) -> str:
    """A hint of a secret for display: its scheme/host start and last four characters."""
    if len(plain) <= 8:
        return "••••"
    head = plain.split("://", 1)[0] + "://" if "://" in plain else plain[:2]
    return f"{head}…{plain[-4:]}"
