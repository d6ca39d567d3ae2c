"""Password hashing (argon2id) and the password policy: a minimum length and no common patterns."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from services.config import get_settings
from services.errors import InvalidInput

MAX_LENGTH = 256  # argon2 takes any length; a cap keeps a hostile 10 MB password cheap to refuse
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm")


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with argon2-cffi's RFC 9106 low-memory profile


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    lines = (Path(__file__).parent / "common_passwords.txt").read_text().splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("not-a-real-password-but-as-costly-to-check")


def hash_password(password: str) -> str:
    """The argon2id hash (encoded, salted) of a password."""
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether the password matches; as slow for a missing hash, so timing tells nothing."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher().verify(stored_hash or _dummy_hash(), password) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher().check_needs_rehash(stored_hash)


def _is_sequence_or_repeat(text: str) -> bool:
    if len(set(text)) <= 2:
        return True
    return any(text in seq * 3 or text in seq[::-1] * 3 for seq in _SEQUENCES)


def policy_problem(password: str, *, email: str = "", min_length: int | None = None) -> str | None:
    """Why the password is refused, or None when it is acceptable."""
    minimum = min_length or get_settings().password_min_length
    if len(password) < minimum:
        return f"Use at least {minimum} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    plain = _EDGES.sub("", lowered) or lowered
    cores = {lowered, plain, plain.translate(_LEET), _EDGES.sub("", lowered.translate(_LEET))}
    if any(c in _common() or _is_sequence_or_repeat(c) for c in cores if c):
        return "This password is too common or too easy to guess; choose another."
    core = plain
    local, _, domain = email.lower().partition("@")
    parts = [p for p in [local, *domain.split(".")[:-1]] if len(p) >= 4]
    if any(p in lowered or p in core for p in parts):
        return "The password must not contain your email address or its domain."
    return None


def require_acceptable(password: str, *, email: str = "") -> None:
    """Raise InvalidInput when the password breaks the policy."""
    problem = policy_problem(password, email=email)
    if problem:
        raise InvalidInput(problem)
