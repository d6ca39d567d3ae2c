"""TOTP secrets encrypted at rest (Fernet: AES-128-CBC with HMAC-SHA256) under a key derived from
REVO_TOTP_ENCRYPTION_KEY. Several comma-separated keys rotate: the first encrypts, all decrypt."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.config import get_settings
from services.errors import InvalidSettings

PREFIX = "enc1:"  # marks a sealed value (and its format version)
MISSING_KEY = (
    "TOTP secrets are encrypted at rest and REVO_TOTP_ENCRYPTION_KEY is not set. Set it to a "
    "random secret of at least 32 characters (the same one on every console and for "
    "`revo db upgrade`), e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))'."
)
WRONG_KEY = (
    "A stored TOTP secret cannot be decrypted with REVO_TOTP_ENCRYPTION_KEY: the key changed. "
    "Put the old key after the new one (comma-separated) to rotate, or reset the person's "
    "authenticator on the People page."
)


def _fernet_key(secret: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"revo-console totp v1")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode("utf-8")))


def box(key_setting: str | None) -> MultiFernet:
    """The cipher for a REVO_TOTP_ENCRYPTION_KEY value; InvalidSettings when it is unset."""
    keys = [k.strip() for k in (key_setting or "").split(",") if k.strip()]
    if not keys:
        raise InvalidSettings(MISSING_KEY)
    return MultiFernet([Fernet(_fernet_key(k)) for k in keys])


def seal(plain: str, *, key_setting: str | None) -> str:
    """The stored form of a secret."""
    return PREFIX + box(key_setting).encrypt(plain.encode("utf-8")).decode("ascii")


def unseal(stored: str, *, key_setting: str | None) -> str:
    """The secret back from its stored form."""
    if not stored.startswith(PREFIX):
        raise InvalidSettings("A TOTP secret is stored unencrypted; run `revo db upgrade`.")
    try:
        return box(key_setting).decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise InvalidSettings(WRONG_KEY) from exc


def _key() -> str | None:
    key = get_settings().totp_encryption_key
    return key.get_secret_value() if key else None


def require_key() -> None:
    """InvalidSettings unless REVO_TOTP_ENCRYPTION_KEY is set (and usable)."""
    box(_key())


def seal_totp(plain: str) -> str:
    """Encrypt a TOTP secret with the configured key."""
    return seal(plain, key_setting=_key())


def unseal_totp(stored: str) -> str:
    """Decrypt a stored TOTP secret with the configured key(s)."""
    return unseal(stored, key_setting=_key())
