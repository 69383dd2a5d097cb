"""Secrets: random tokens, their hashes, password hashing (argon2) and HMAC signatures."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def use_hasher(hasher: PasswordHasher) -> None:
    """Replaces the password hasher. The tests use a cheap one: argon2's defaults cost about
    0.1 s a hash, paid by every test that makes an agent. A hash keeps its own parameters, so
    it verifies whichever hasher made it."""
    global _hasher
    _hasher = hasher
    _dummy_hash.cache_clear()


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the e-mail is unknown, so a wrong address costs as much as a
    wrong password. Made on first use: hashing at import would slow every command down."""
    return _hasher.hash("balie-dummy-password")


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def sign(secret: str, body: bytes, timestamp: str) -> str:
    """Webhook signature: hex HMAC-SHA256 over '<timestamp>.<body>'."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()
